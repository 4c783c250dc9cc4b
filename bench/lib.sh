# Shared by the bench scripts: replace (or append) a marked section of bench/README.md.
# write_section NAME TEXT  -- TEXT must start with <!-- NAME:start --> and end with <!-- NAME:end -->
write_section() {
    python3 - "$1" "$2" <<'PY'
import re, sys
name, section = sys.argv[1], sys.argv[2]
path = "bench/README.md"
text = open(path).read()
start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
if start in text:
    text = re.sub(re.escape(start) + r".*?" + re.escape(end), lambda _: section, text, flags=re.S)
else:
    text = text.rstrip("\n") + "\n\n" + section + "\n"
open(path, "w").write(text)
PY
}
