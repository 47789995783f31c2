#!/usr/bin/env python3
"""Compiles every C++ code block of the given Markdown files, as a reader would use it.

A block that is a whole program or a set of declarations compiles as it stands. A block
that is a fragment names, in an HTML comment on the line before its fence, the hidden
prelude that declares what it uses (tests/docs/preludes/NAME.hpp):

    <!-- code: common -->

Its #include lines go first, then the prelude, then its leading declarations (template,
using, struct) at namespace scope, and its statements in the body of a function
`int snn2ann_doc_block(int argc, char** argv)`; a block with a `main` goes whole after the prelude.
`<!-- code: NAME, nvcc -->` compiles the block with nvcc (skipped, and said so, where
there is none); `<!-- code: NAME, fails: TEXT -->` marks a block that must not compile,
the compiler's output containing TEXT.

usage: code_blocks.py --preludes DIR --cxx CXX [--nvcc NVCC] [--jobs N] -- FLAGS... -- FILE.md...
Prints one line per block and a count; exits 1 if a block does not do what it must.
"""
import concurrent.futures
import os
import re
import subprocess
import sys
import tempfile

FENCE = re.compile(r"^(\s*)```(cpp|c\+\+)\s*$")
MARKER = re.compile(r"<!--\s*code:\s*(.*?)\s*-->")
DECLARATION = re.compile(r"^(template\s*<|using\s|struct\s|class\s|namespace\s)")


def blocks(path):
    """(line, marker, text) of every C++ block of a Markdown file."""
    lines = open(path, encoding="utf-8").read().split("\n")
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if m:
            indent = len(m.group(1))
            j = i + 1
            while j < len(lines) and not re.match(r"^\s*```\s*$", lines[j]):
                j += 1
            before = lines[i - 1] if i > 0 else ""
            marker = MARKER.search(before)
            yield i + 1, marker.group(1) if marker else "", "\n".join(l[indent:] for l in lines[i + 1:j])
            i = j
        i += 1


def split_block(text):
    """(includes, declarations, statements, has_main)."""
    includes, rest = [], []
    for line in text.split("\n"):
        (includes if line.startswith("#include") else rest).append(line)
    has_main = re.search(r"\bint\s+main\s*\(", text) is not None
    declarations, statements = [], []
    depth, in_declaration, leading = 0, False, True
    for line in rest:
        code = re.sub(r"//.*", "", line)
        if leading and not in_declaration:
            if DECLARATION.match(code.strip()):
                in_declaration = True
            elif code.strip():
                leading = False
        if in_declaration or (leading and not code.strip()):
            declarations.append(line)
            depth += code.count("{") - code.count("}")
            if in_declaration and depth == 0 and code.rstrip().endswith(";"):
                in_declaration = False
        else:
            statements.append(line)
    return includes, declarations, statements, has_main


def source_of(text, prelude):
    includes, declarations, statements, has_main = split_block(text)
    parts = includes + [prelude]
    if has_main:
        parts += declarations + statements
    else:
        parts += declarations + ["int snn2ann_doc_block([[maybe_unused]] int argc, [[maybe_unused]] char** argv) {"]
        parts += statements + ["    return 0;", "}"]
    return "\n".join(parts) + "\n"


def main():
    args = sys.argv[1:]
    opts = {"--jobs": "2", "--nvcc": ""}
    while args and args[0] != "--":
        opts[args[0]] = args[1]
        args = args[2:]
    args = args[1:]
    flags = args[: args.index("--")]
    files = args[args.index("--") + 1:]
    work = tempfile.mkdtemp(prefix="snn2ann_doc_blocks_")
    jobs = []
    for path in files:
        for line, marker, text in blocks(path):
            parts = [p.strip() for p in marker.split(",")] if marker else []
            prelude_name = parts[0] if parts and not parts[0].startswith("fails") and parts[0] != "nvcc" else ""
            prelude = ""
            if prelude_name:
                prelude = open(os.path.join(opts["--preludes"], prelude_name + ".hpp"), encoding="utf-8").read()
            fails = next((p.split(":", 1)[1].strip() for p in parts if p.startswith("fails")), None)
            nvcc = "nvcc" in parts
            name = f"{os.path.basename(path)}:{line}"
            src = os.path.join(work, re.sub(r"[^A-Za-z0-9]", "_", name) + (".cu" if nvcc else ".cpp"))
            with open(src, "w", encoding="utf-8") as f:
                f.write(f"// {name}\n" + source_of(text, prelude))
            jobs.append((name, src, fails, nvcc))

    def compile_one(job):
        name, src, fails, nvcc = job
        if nvcc and not opts["--nvcc"]:
            return name, "skipped", "no nvcc here"
        if nvcc:
            cmd = [opts["--nvcc"], "-std=c++20", "--expt-relaxed-constexpr", "-diag-suppress=20012", "-c", "-o",
                   os.devnull] + [f for f in flags if f != "-fsyntax-only" and f != "-std=c++20"] + [src]
        else:
            cmd = [opts["--cxx"]] + flags + [src]
        r = subprocess.run(cmd, capture_output=True, text=True)
        out = r.stdout + r.stderr
        if fails is not None:
            if r.returncode != 0 and fails in out:
                return name, "fails as it must", ""
            return name, "FAILED", f"must not compile with '{fails}'; it " + ("compiled" if r.returncode == 0 else "failed otherwise:\n" + out)
        return (name, "compiles", "") if r.returncode == 0 else (name, "FAILED", out)

    failed = skipped = 0
    with concurrent.futures.ThreadPoolExecutor(int(opts["--jobs"])) as pool:
        for name, verdict, detail in pool.map(compile_one, jobs):
            print(f"{name}: {verdict}" + (f" ({detail})" if verdict == "skipped" else ""))
            if verdict == "FAILED":
                failed += 1
                print("\n".join("    " + l for l in detail.strip().split("\n")[:40]))
            skipped += verdict == "skipped"
    print(f"{len(jobs)} code blocks: {len(jobs) - failed - skipped} passed, {failed} failed, {skipped} skipped"
          f" (the sources are in {work})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
