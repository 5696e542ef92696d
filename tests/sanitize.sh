#!/usr/bin/env bash
# Memory-safety run: build rnnc._C and rnnc._testhooks with AddressSanitizer + UndefinedBehaviorSanitizer
# (setup.py's RNNC_SANITIZE=1) in a throw-away copy of the checkout -- the normal
# in-place build is left alone -- and run the test suite against it.  Passes only when
# the tests pass and neither sanitizer reports anything.
#
#   tests/sanitize.sh                      # the whole suite
#   tests/sanitize.sh tests/test_core_twin.py -k lstm    # pytest arguments pass through
#   KEEP=1 tests/sanitize.sh               # keep the copy (its path is printed)
#
# Python itself is not instrumented, so libasan is preloaded (it must come first);
# leak detection is off (CPython does not free everything at exit: every report would
# be the interpreter's).  allocator_may_return_null=1 turns impossible allocations into
# NULL -> MemoryError, as without ASan, so the allocation-failure tests still apply.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/rnnc-sanitize.XXXXXX")"
if [[ -z "${KEEP:-}" ]]; then trap 'rm -rf "$work"' EXIT; else echo "copy kept in $work"; fi

# tracked and untracked-but-not-ignored files: what the next commit would hold
(cd "$repo" && git ls-files -z --cached --others --exclude-standard) |
    (cd "$repo" && xargs -0 tar cf - --ignore-failed-read 2>/dev/null) | (cd "$work" && tar xf -)

cd "$work"
echo "== building the sanitized extensions in $work"
RNNC_SANITIZE=1 python setup.py build_ext --inplace >build.log 2>&1 ||
    { tail -40 build.log; echo "sanitized build FAILED"; exit 1; }

libasan="$(gcc -print-file-name=libasan.so)"
[[ -e "$libasan" ]] || { echo "libasan.so not found (gcc -print-file-name=libasan.so)"; exit 1; }
export LD_PRELOAD="$libasan${LD_PRELOAD:+:$LD_PRELOAD}"
export ASAN_OPTIONS="detect_leaks=0:allocator_may_return_null=1:abort_on_error=0:halt_on_error=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
export PYTHONPATH="$work${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONFAULTHANDLER=1

echo "== running the tests under ASan + UBSan"
python -c "
import sys, rnnc._C, rnnc._testhooks
for m in (rnnc._C, rnnc._testhooks):
    assert m.__file__.startswith(sys.argv[1]), m.__file__" "$work"
status=0
python -m pytest -q -p no:cacheprovider "${@:-tests}" 2>&1 | tee pytest.log || status=$?
if grep -qE "ERROR: AddressSanitizer|runtime error:|ERROR: LeakSanitizer" pytest.log; then
    echo "== sanitizer reports:"
    grep -nE -A12 "ERROR: AddressSanitizer|runtime error:" pytest.log | head -200
    status=1
fi
if [[ $status -eq 0 ]]; then echo "== sanitize: OK (no reports)"; else echo "== sanitize: FAILED"; fi
exit $status
