#!/usr/bin/env bash
# Runs the Python probe's accuracy and determinism tests once per interpreter, each as `python3`.
#
#   scripts/test-pythons.sh                        every pyenv CPython 3.8+ (~/.pyenv/versions/3.*)
#   scripts/test-pythons.sh /usr/bin/python3 ...   the interpreters named
#   scripts/test-pythons.sh --chroot DIR python3.14 python3.15 /opt/py313t/bin/python3
#                                                  interpreters inside a Debian chroot (needs root)
#
# A chroot needs the interpreters, gcc and libc6-dev (the probe is compiled there), GNU time and
# valgrind (referees); the project is bind-mounted at /project and the tests run with the Node.js
# that `npm ci` put in node_modules. docs/measurement.md says how the chroots were made (Debian
# trixie and sid, and a free-threaded 3.13 built from Debian's own source) and what they gave.
# TEST_FILES overrides the test files run. Prints one line per interpreter; exit status 1 if any failed.
set -uo pipefail
cd "$(dirname "$0")/.."
project=$PWD
files=${TEST_FILES:-test/measure/python-probe.test.ts test/measure/load-probe.test.ts}
chroot_dir=
if [ "${1:-}" = --chroot ]; then
  chroot_dir=${2:?--chroot needs the chroot folder}
  shift 2
fi
interpreters=("$@")
if [ ${#interpreters[@]} -eq 0 ]; then
  [ -z "$chroot_dir" ] || { echo "name the interpreters to run inside $chroot_dir" >&2; exit 2; }
  for v in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.*; do
    minor=$(basename "$v" | cut -d. -f2)
    [ "${minor%%[!0-9]*}" -ge 8 ] 2>/dev/null && interpreters+=("$v/bin/python3")
  done
fi
[ ${#interpreters[@]} -gt 0 ] || { echo "no interpreter found (pyenv has no 3.8+; name some)" >&2; exit 2; }

# The run for one interpreter: a folder whose python3 is that interpreter, first on PATH.
one_run() {  # one_run PROJECT_DIR INTERPRETER
  cat <<EOF
bin=\$(mktemp -d) && ln -s "\$(command -v $2)" "\$bin/python3" &&
cd $1 && PATH="\$bin:$1/node_modules/.bin:\$PATH" python3 -VV &&
PATH="\$bin:$1/node_modules/.bin:\$PATH" node_modules/.bin/vitest run $files; rc=\$?; rm -rf "\$bin"; exit \$rc
EOF
}

in_chroot() {  # in_chroot COMMAND: proc, sys, dev and the project mounted, nothing left mounted
  local d=$chroot_dir rc=0
  mkdir -p "$d/project"
  mount -t proc proc "$d/proc" && mount --rbind /sys "$d/sys" && mount --rbind /dev "$d/dev" &&
    mount --bind "$project" "$d/project" || { echo "cannot mount into $d (root needed)" >&2; return 2; }
  chroot "$d" /usr/bin/env -i HOME=/root LANG=C.UTF-8 PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin \
    /bin/bash -c "$1" || rc=$?
  umount "$d/project"; umount "$d/proc"; umount -R "$d/sys"; umount -R "$d/dev"
  return $rc
}

summary=()
failed=0
for py in "${interpreters[@]}"; do
  log=$(mktemp)
  if [ -n "$chroot_dir" ]; then
    in_chroot "$(one_run /project "$py")" >"$log" 2>&1
  else
    bash -c "$(one_run "$project" "$py")" >"$log" 2>&1
  fi
  rc=$?
  version=$(grep -m1 '^Python ' "$log" | cut -d' ' -f2)
  tests=$(sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -E '^ +Tests ' | sed 's/^ *Tests *//')
  if [ $rc -eq 0 ]; then status=pass; else status=FAIL; failed=1; fi
  summary+=("$status  ${chroot_dir:+$chroot_dir: }$py (${version:-?}): ${tests:-no test summary}")
  if [ $rc -ne 0 ]; then
    echo "---- $py: failures ----"
    sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -E -A12 'FAIL|AssertionError|Error:' | head -80
  fi
  rm -f "$log"
done
printf '%s\n' "${summary[@]}"
exit $failed
