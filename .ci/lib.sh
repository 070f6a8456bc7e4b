# shellcheck shell=bash
# Shared helpers for .ci/run and the other .ci scripts. Source it; don't run it.
# Bash only (arrays, SECONDS, EPOCHREALTIME).

# The pnpm version the README tells users to run (npx -y pnpm@9.15.9 ...) and package.json pins.
PNPM_VERSION="${PNPM_VERSION:-9.15.9}"

# Node 24 comes from the npm registry (the only registry reachable besides Debian's). Pinned so
# CI is repeatable; override with NODE24_VERSION=24.x.y to try another release.
# Why 24.18.1: from 24.19.0 on, node::ObjectWrap registers environment cleanup hooks, and an addon
# compiled against those headers (better-sqlite3 <= 12 derives Statement/Database from ObjectWrap)
# aborts with "Assertion failed: (env) != nullptr" when V8 collects a Statement outside a JS
# context (nodejs/node#65446). better-sqlite3 13 fixes it but needs Node >= 22; built against
# 24.18.1 headers, better-sqlite3 12 runs cleanly. See README "Node 24 and better-sqlite3".
NODE24_VERSION="${NODE24_VERSION:-24.18.1}"

ci_log() {
  printf '\n\033[1m==> %s\033[0m\n' "$*"
}

ci_warn() {
  printf '\033[33m!!  %s\033[0m\n' "$*" >&2
}

ci_now() {
  # Milliseconds since the epoch; EPOCHREALTIME exists from bash 5.
  local t="${EPOCHREALTIME/./}"
  echo $((t / 1000))
}

CI_STEP_NAMES=()
CI_STEP_MS=()
CI_STEP_STATUS=()
# CI_KEEP_GOING=1 runs every step even after one fails (to see all problems at once); the run
# still exits non-zero at the end.
CI_KEEP_GOING="${CI_KEEP_GOING:-0}"
CI_FAILED_STEPS=0

# ci_step "name" command args...: runs the command, prints and records how long it took.
# A failing command keeps its exit status (set -e then stops the run) after its time is recorded.
ci_step() {
  local name="$1"
  shift
  ci_log "$name"
  local start status=0
  start="$(ci_now)"
  "$@" || status=$?
  local elapsed=$(($(ci_now) - start))
  CI_STEP_NAMES+=("$name")
  CI_STEP_MS+=("$elapsed")
  CI_STEP_STATUS+=("$status")
  if [ "$status" -eq 0 ]; then
    printf '<== %s: ok in %d.%01d s\n' "$name" $((elapsed / 1000)) $((elapsed % 1000 / 100))
    return 0
  fi
  printf '<== %s: FAILED (exit %d) after %d.%01d s\n' "$name" "$status" $((elapsed / 1000)) \
    $((elapsed % 1000 / 100))
  CI_FAILED_STEPS=$((CI_FAILED_STEPS + 1))
  if [ "$CI_KEEP_GOING" = 1 ]; then
    return 0
  fi
  return "$status"
}

ci_summary() {
  local i total=0
  printf '\n%-44s %8s  %s\n' 'step' 'seconds' 'result'
  for i in "${!CI_STEP_NAMES[@]}"; do
    printf '%-44s %6d.%01d  %s\n' "${CI_STEP_NAMES[$i]}" $((CI_STEP_MS[i] / 1000)) \
      $((CI_STEP_MS[i] % 1000 / 100)) \
      "$([ "${CI_STEP_STATUS[$i]}" -eq 0 ] && echo ok || echo "FAILED (exit ${CI_STEP_STATUS[$i]})")"
    total=$((total + CI_STEP_MS[i]))
  done
  printf '%-44s %6d.%01d\n' 'total' $((total / 1000)) $((total % 1000 / 100))
}

# Puts pnpm $PNPM_VERSION on PATH: the machine's if it is that version, else a global npm install,
# else (no write access to npm's global prefix) a private prefix under the user's cache.
ci_ensure_pnpm() {
  if command -v pnpm >/dev/null 2>&1 && [ "$(pnpm --version 2>/dev/null)" = "$PNPM_VERSION" ]; then
    echo "pnpm $PNPM_VERSION already on PATH ($(command -v pnpm))"
    return 0
  fi
  if npm install --global --no-audit --no-fund "pnpm@$PNPM_VERSION"; then
    # npm's global bin directory need not be on PATH (or may come after another pnpm).
    local global_bin
    global_bin="$(npm prefix --global)/bin"
    export PATH="$global_bin:$PATH"
    hash -r
  else
    local prefix="${XDG_CACHE_HOME:-$HOME/.cache}/prepaid-balances/pnpm-$PNPM_VERSION"
    ci_warn "global install of pnpm failed; installing it under $prefix"
    npm install --prefix "$prefix" --no-save --no-package-lock --no-audit --no-fund \
      "pnpm@$PNPM_VERSION"
    export PATH="$prefix/node_modules/.bin:$PATH"
  fi
  [ "$(pnpm --version)" = "$PNPM_VERSION" ] || {
    ci_warn "pnpm on PATH is $(pnpm --version), expected $PNPM_VERSION"
    return 1
  }
  echo "pnpm $(pnpm --version) at $(command -v pnpm)"
}
