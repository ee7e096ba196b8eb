#!/usr/bin/env bash
# A long fuzz run of one target (docs/development/fuzzing.md):
#
#   tools/fuzz/run.sh ZarrFuzzTest 600      # RequestFuzzTest | ZarrFuzzTest | H5adFuzzTest
#
# Fuzzes for the given seconds (default 600) with Jazzer, starting from the committed seeds and
# regression inputs plus the corpus earlier runs left in flight-server/.cifuzz-corpus/. A finding
# stops the run and is written as crash-<sha1> beside the target's seeds (a regression input from
# then on). Extra Maven flags go in MVN_FLAGS (e.g. MVN_FLAGS=-o). Runs under nice: CI machines
# and shared workstations are loaded.
set -euo pipefail
cd "$(dirname "$0")/../.."
target=${1:?usage: tools/fuzz/run.sh <RequestFuzzTest|ZarrFuzzTest|H5adFuzzTest> [seconds]}
seconds=${2:-600}
# Coverage is measured in the project's classes and in jhdf (which parses the HDF5 structure).
# jazzer.internal.arg.N are libFuzzer's arguments (0 is argv[0]); they come after the
# @FuzzTest budget, so they replace it: -runs=-1 lifts the execution budget.
JAZZER_FUZZ=1 exec nice mvn -B ${MVN_FLAGS:-} -pl schema,flight-server test \
  -Dtest="$target" -Dsurefire.failIfNoSpecifiedTests=false \
  "-Djazzer.instrument=io.annflight.**,io.jhdf.**" \
  "-Darrow.jvm.args=--add-opens=java.base/java.nio=ALL-UNNAMED -Xmx1g" \
  -Djazzer.internal.arg.0=fuzz -Djazzer.internal.arg.1=-max_total_time="$seconds" \
  -Djazzer.internal.arg.2=-runs=-1 -Djazzer.internal.arg.3=-print_final_stats=1 \
  -Djazzer.internal.arg.4=-timeout=60
