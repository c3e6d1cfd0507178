#!/usr/bin/env python3
"""Lists public/open declarations without a preceding `///` doc comment.

Usage: scripts/check-public-docs.py [DIR ...]   (default: Sources/KafkaClient)
A declaration is a line whose modifiers include `public` or `open`; attribute lines
(`@discardableResult`, ...) between it and its comment are skipped. Exit status 1 when
any declaration lacks a doc comment.
"""
import pathlib
import re
import sys

DECL = re.compile(r'^\s*(?:@\w+(?:\([^)]*\))?\s+)*(?:(?:nonisolated|final|static|class|override|mutating|indirect|convenience|required)\s+)*(public|open)\b(?!\s*\()')
ATTRIBUTE = re.compile(r'^\s*@\w+(?:\(.*\))?\s*$')

def check(root):
    total, missing = 0, []
    for path in sorted(pathlib.Path(root).rglob('*.swift')):
        lines = path.read_text().splitlines()
        for index, line in enumerate(lines):
            if not DECL.match(line):
                continue
            total += 1
            above = index - 1
            while above >= 0 and ATTRIBUTE.match(lines[above]):
                above -= 1
            if above < 0 or not lines[above].strip().startswith('///'):
                missing.append(f'{path}:{index + 1}: {line.strip()}')
    return total, missing

total, missing = 0, []
for root in sys.argv[1:] or ['Sources/KafkaClient']:
    t, m = check(root)
    total += t
    missing += m
print(f'public decls {total} undocumented {len(missing)}')
for entry in missing:
    print(entry)
sys.exit(1 if missing else 0)
