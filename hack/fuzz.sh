#!/usr/bin/env bash
# hack/fuzz.sh TARGET PACKAGE FUZZTIME: fuzzes one target for FUZZTIME. A
# finding writes its input under testdata/fuzz and fails. Go's coordinator
# can also fail a run that found nothing with a bare "context deadline
# exceeded": its -fuzztime deadline races a worker still executing on a
# busy machine (golang/go#51484, #75804). That alone, with no input
# written, is not a finding: the target's corpus is replayed instead, and
# only a failure there fails.
#
# It ends with one line, "fuzz: TARGET PACKAGE: N execs in T", from the
# last progress line of go test, also appended to the file $FUZZ_SUMMARY
# when set: make fuzz reports every target's executions at the end.
set -uo pipefail
target=$1 pkg=$2 fuzztime=$3
out=$(mktemp)
trap 'rm -f "$out"' EXIT
go test -run='^$' -fuzz="^$target\$" -fuzztime="$fuzztime" -fuzzminimizetime=1s "$pkg" 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}
if [ "$rc" -ne 0 ] && grep -q 'context deadline exceeded' "$out" && ! grep -q 'Failing input written' "$out" && ! grep -q 'panic:' "$out"; then
  echo "fuzz: $target: the fuzzing deadline raced a busy worker, nothing was found; replaying its corpus" >&2
  go test -count=1 -run="^$target\$" "$pkg"
  rc=$?
fi
execs=$(sed -n 's/^fuzz: elapsed: \([^,]*\), execs: \([0-9]*\) .*/\2 execs in \1/p' "$out" | tail -n 1)
line="fuzz: $target $pkg: ${execs:-no executions reported}"
[ "$rc" -eq 0 ] || line="$line, FAILED"
echo "$line"
[ -z "${FUZZ_SUMMARY:-}" ] || echo "$line" >>"$FUZZ_SUMMARY"
exit "$rc"
