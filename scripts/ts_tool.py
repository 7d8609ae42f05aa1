#!/usr/bin/env python3
"""Keeps translations/*.ts filled after lupdate moves strings between contexts.

  ts_tool.py harvest FILE.ts OUT.json      every finished translation, by source text
  ts_tool.py fill FILE.ts IN.json [...]    fill unfinished messages whose source text is known
  ts_tool.py unfinished FILE.ts            list the sources still unfinished (exit 1 if any)
  ts_tool.py english-plurals FILE_en.ts     fill the English plural forms: "%n error(s)" ->
                                           "%n error" / "%n errors"
  ts_tool.py english-forms FILE_en.ts       exit 1 if an English plural form still says "(s)" or
                                           "(es)" (the singular and plural were never written)
  ts_tool.py same CHECKED.ts FRESH.ts       exit 1 unless both hold the same messages (context,
                                           source, comment), locations aside: FRESH is what
                                           lupdate makes of CHECKED from today's sources

lupdate keys messages by (context, source); moving a string to another class leaves it
unfinished although its words did not change. Plural (numerus) forms are kept as lists.
"""
import json
import sys
import xml.etree.ElementTree as ET


def messages(tree):
    for context in tree.getroot().iter("context"):
        for message in context.iter("message"):
            yield message


def finished(translation):
    return translation is not None and translation.get("type") not in ("unfinished", "vanished", "obsolete")


def text_of(translation):
    forms = translation.findall("numerusform")
    if forms:
        return [f.text or "" for f in forms]
    return translation.text or ""


def harvest(path, out):
    known = {}
    for message in messages(ET.parse(path)):
        translation = message.find("translation")
        value = text_of(translation) if translation is not None else ""
        if finished(translation) and value not in ("", [""], []):
            known[message.findtext("source")] = value
    with open(out, "w", encoding="utf-8") as f:
        json.dump(known, f, ensure_ascii=False, indent=1, sort_keys=True)
    print(f"{len(known)} translations from {path}")


def fill(path, dictionaries):
    known = {}
    for d in dictionaries:
        with open(d, encoding="utf-8") as f:
            known.update(json.load(f))
    tree = ET.parse(path)
    filled = 0
    for message in messages(tree):
        translation = message.find("translation")
        if translation is None or finished(translation):
            continue
        source = message.findtext("source")
        if source not in known:
            continue
        value = known[source]
        numerus = message.get("numerus") == "yes"
        for child in list(translation):
            translation.remove(child)
        if numerus:
            forms = value if isinstance(value, list) else [value]
            translation.text = None
            for form in forms[:1] if path.endswith("zh_CN.ts") else forms:
                ET.SubElement(translation, "numerusform").text = form
        else:
            translation.text = value[0] if isinstance(value, list) else value
        translation.attrib.pop("type", None)
        filled += 1
    write(tree, path)
    print(f"filled {filled} messages in {path}")


def write(tree, path):
    tree.write(path, encoding="utf-8", xml_declaration=True)
    # ElementTree drops the DOCTYPE that Qt's tools write; put it back.
    with open(path, encoding="utf-8") as f:
        body = f.read()
    if "<!DOCTYPE TS>" not in body:
        body = body.replace("?>\n", "?>\n<!DOCTYPE TS>\n", 1)
    with open(path, "w", encoding="utf-8") as f:
        f.write(body if body.endswith("\n") else body + "\n")


def unfinished(path):
    missing = []
    for message in messages(ET.parse(path)):
        if not finished(message.find("translation")):
            missing.append(message.findtext("source"))
    for source in missing:
        print(json.dumps(source, ensure_ascii=False))
    print(f"{len(missing)} unfinished in {path}", file=sys.stderr)
    return 1 if missing else 0


def english_plurals(path):
    tree = ET.parse(path)
    filled = 0
    for message in messages(tree):
        translation = message.find("translation")
        if message.get("numerus") != "yes" or finished(translation):
            continue
        source = message.findtext("source")
        for child in list(translation):
            translation.remove(child)
        translation.text = None
        singular = source.replace("(es)", "").replace("(s)", "")
        plural = source.replace("(es)", "es").replace("(s)", "s")
        for form in (singular, plural):
            ET.SubElement(translation, "numerusform").text = form
        translation.attrib.pop("type", None)
        filled += 1
    write(tree, path)
    print(f"filled {filled} plural messages in {path}")


def english_forms(path):
    bad = []
    for message in messages(ET.parse(path)):
        if message.get("numerus") != "yes":
            continue
        forms = [f.text or "" for f in message.find("translation").iter("numerusform")]
        if any("(s)" in f or "(es)" in f for f in forms):
            bad.append(message.findtext("source"))
    for source in bad:
        print(f'"{source}": its English forms still say (s) or (es)')
    return 1 if bad else 0


def message_keys(path):
    keys = set()
    for context in ET.parse(path).getroot().iter("context"):
        name = context.findtext("name")
        for message in context.iter("message"):
            translation = message.find("translation")
            if translation is not None and translation.get("type") in ("vanished", "obsolete"):
                continue
            keys.add((name, message.findtext("source"), message.findtext("comment") or ""))
    return keys


def same(checked, fresh):
    old, new = message_keys(checked), message_keys(fresh)
    for context, source, _ in sorted(new - old):
        print(f"new in the sources, not in {checked}: [{context}] {json.dumps(source, ensure_ascii=False)}")
    for context, source, _ in sorted(old - new):
        print(f"in {checked}, gone from the sources: [{context}] {json.dumps(source, ensure_ascii=False)}")
    return 0 if old == new else 1


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    if command == "harvest":
        harvest(*args)
    elif command == "fill":
        fill(args[0], args[1:])
    elif command == "english-plurals":
        english_plurals(args[0])
    elif command == "unfinished":
        sys.exit(unfinished(args[0]))
    elif command == "english-forms":
        sys.exit(english_forms(args[0]))
    elif command == "same":
        sys.exit(same(args[0], args[1]))
    else:
        sys.exit(__doc__)
