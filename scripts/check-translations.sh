#!/usr/bin/env bash
# The translations against today's sources, for ctest (translations.current): lupdate updates
# copies of translations/*.ts from the sources exactly as `ninja syncbn_update_translations`
# does, and the test fails when a copy gains or loses a message (a string was added, changed or
# removed without refreshing the .ts files) or when a zh_CN message is unfinished.
#   check-translations.sh LUPDATE PROJECT_BASE GENERATOR TS...
# PROJECT_BASE is app's .lupdate/syncbn_app_project (its .cmake is written at configure time);
# GENERATOR is Qt's GenerateLUpdateProject.cmake, which turns it into lupdate's JSON project.
set -euo pipefail
lupdate=$1 project=$2 generator=$3
shift 3
tools=$(cd "$(dirname "$0")" && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

cmake -DIN_FILE="$project.cmake" -DOUT_FILE="$scratch/project.json" -P "$generator"
copies=()
for ts in "$@"; do
  cp "$ts" "$scratch/"
  copies+=("$scratch/$(basename "$ts")")
done
# The options of qt_add_lupdate in app/CMakeLists.txt.
(cd "$(dirname "$project")" && "$lupdate" -project "$scratch/project.json" -no-obsolete \
  -locations relative -tr-function-alias QT_TRANSLATE_NOOP+=SYNCBN_ENGINE_TEXT \
  -ts "${copies[@]}") >"$scratch/lupdate.log" 2>&1 ||
  { cat "$scratch/lupdate.log"; exit 1; }

status=0
for ts in "$@"; do
  python3 "$tools/ts_tool.py" same "$ts" "$scratch/$(basename "$ts")" || status=1
  if [[ $ts == *_en.ts ]]; then  # English is the source text, but for its plurals
    python3 "$tools/ts_tool.py" english-forms "$ts" || status=1
    continue
  fi
  python3 "$tools/ts_tool.py" unfinished "$ts" || status=1
done
if ((status != 0)); then
  echo "check-translations: refresh with 'cmake --build build --target syncbn_update_translations'," \
    "then translate what is unfinished (translations/README.md)"
  exit 1
fi
echo "check-translations: ok"
