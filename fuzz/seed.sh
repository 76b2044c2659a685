#!/usr/bin/env bash
# Builds the seed corpus of every fuzz target under OUT (default
# fuzz/corpus), from the files the project already keeps: the bundled
# scenarios, the test scenarios and traces, and the TOML and CSV written
# inside the integration tests. The seeds are generated, not committed, so
# they follow the scenarios as those change.
#
#   fuzz/seed.sh [OUT]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$root/fuzz/corpus}"
mkdir -p "$out"/{scenario,simulate,quantities,replay,shards}

# Writes stdin to DIR under the name of its hash, so a rerun adds nothing twice.
put() {
  local dir=$1 tmp
  tmp=$(mktemp)
  cat >"$tmp"
  mv "$tmp" "$dir/seed-$(sha1sum <"$tmp" | cut -c1-16)"
}

# Scenarios: whole files, and every raw string of the integration tests that
# looks like TOML (a table header or a `key =` line), complete or a fragment.
scenario_seeds() {
  for f in "$root"/scenarios/*.toml "$root"/tests/*.toml; do
    cat "$f" | put "$1"
  done
  perl -0777 -ne 'while (/r#"(.*?)"#/sg) { my $s = $1; print "$s\0" if $s =~ /^\s*(\[|[a-z_]+\s*=)/m }' \
    "$root"/tests/integration/*.rs |
    while IFS= read -r -d '' s; do printf '%s' "$s" | put "$1"; done
}
scenario_seeds "$out/scenario"
scenario_seeds "$out/simulate"

# Traces: the trace files, and the CSV string literals of the tests.
for f in "$root"/tests/replay/*.csv; do put "$out/replay" <"$f"; done
perl -0777 -ne 'while (/"((?:[^"\\]|\\.)*(?:node|domain),fail_at,repair_at(?:[^"\\]|\\.)*)"/g) { my $s = $1; $s =~ s/\\n/\n/g; $s =~ s/\\r/\r/g; $s =~ s/\\"/"/g; print "$s\0" }' \
  "$root"/tests/integration/*.rs "$root"/src/input/replay.rs |
  while IFS= read -r -d '' s; do printf '%s' "$s" | put "$out/replay"; done

# Quantities: every quoted value of the scenarios that starts with a digit
# ("40s", "32Gi", "500m", "1h30m"), and every time of the traces.
{
  grep -ohE '"[0-9][^"]{0,30}"' "$root"/scenarios/*.toml "$root"/tests/*.toml "$root"/tests/integration/*.rs | tr -d '"'
  grep -hv '^#' "$root"/tests/replay/*.csv | cut -s -d, -f2,3 | tr ',' '\n'
} | sed 's/\\$//; s/^ *//; s/ *$//' | grep . | sort -u |
  while IFS= read -r q; do printf '%s' "$q" | put "$out/quantities"; done

# A libFuzzer dictionary for the scenario targets: every key of the raw
# scenario types, the table headers, and the short names the validator
# matches on (distributions, strategies, classes, backends, modes).
{
  grep -ohE '^\s+pub [a-z_]+:' "$root"/src/model/spec.rs | awk '{print $2}' | tr -d ':' | sort -u |
    while read -r key; do printf '"%s = "\n"[%s]"\n"[[%s]]"\n' "$key" "$key" "$key"; done
  grep -ohE '"[a-z][a-z0-9_-]{1,20}"' "$root"/src/model/*.rs "$root"/src/dist.rs "$root"/src/placement/mod.rs |
    sort -u
} >"$out/scenario.dict"

# Shard folders: real 2-shard runs (with and without volumes, short, few
# replications), each folder's summary.json, replications.csv and
# volume_replications.csv joined by NUL bytes, shard 0's then shard 1's
# (the layout the `shards` target splits its input into).
shard_seed() {
  local scenario=$1 tmp i f
  tmp=$(mktemp -d)
  for i in 0 1; do
    cargo run --release --quiet --manifest-path "$root/Cargo.toml" -- run "$scenario" \
      --replications 4 --horizon 30d --shard "$i/2" --out "$tmp/s$i" --quiet >/dev/null
  done
  for i in 0 1; do
    for f in summary.json replications.csv volume_replications.csv; do
      [ "$i$f" = 0summary.json ] || printf '\0'
      if [ -f "$tmp/s$i/$f" ]; then cat "$tmp/s$i/$f"; fi
    done
  done | put "$out/shards"
  rm -rf "$tmp"
}
shard_seed "$root/scenarios/storage-comparison.toml"
shard_seed "$root/scenarios/truecharts-homelab.toml"

for target in scenario simulate quantities replay shards; do
  echo "$target: $(find "$out/$target" -type f | wc -l) seeds"
done
