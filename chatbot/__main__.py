"""``python -m chatbot``: build the Lex bot definition or chat with the local emulator.

Exit codes: 0 success, 2 usage error (argparse), 1 any other error, reported as one line on
stderr (no traceback: these commands run in make targets and CI logs).

Heavy imports (``intents.registry``, ``chatbot.emulator``) happen inside the subcommands so that
``--help`` and ``build-bot`` never pay for the emulator, and the other way round.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _build_bot(args: argparse.Namespace) -> int:
    from chatbot.bot_builder import build_bot_template
    from intents.registry import all_specs

    template = build_bot_template(list(all_specs()), bot_name=args.bot_name, locale=args.locale)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(json.dumps(template, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(out)
    intents = template["Resources"]["Bot"]["Properties"]["BotLocales"][0]["Intents"]
    print(f"wrote {out} ({len(intents)} intents)")
    return 0


def _chat(args: argparse.Namespace) -> int:
    from chatbot import emulator
    from chatbot.bootstrap import Container

    root = Container()  # this process's services, from the configured settings
    try:
        result = emulator.main(root, customer=args.customer, script=args.script)
    finally:
        root.close()
    return result if isinstance(result, int) else 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m chatbot", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    build = sub.add_parser("build-bot", help="write the CloudFormation for the Lex V2 bot")
    build.add_argument("--out", required=True, help="output path, e.g. build/lex-bot.json")
    build.add_argument("--bot-name", default="DisputeAssistant")
    build.add_argument("--locale", default="en_US")
    build.set_defaults(func=_build_bot)

    chat = sub.add_parser("chat", help="talk to the assistant through the local Lex emulator")
    chat.add_argument("--customer", help="act as this (verified) demo customer, e.g. demo-alice")
    chat.add_argument("--script", help="file with one customer message per line; prints JSON lines")
    chat.set_defaults(func=_chat)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)  # exits 2 on usage errors
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # one line for humans and CI logs, never a traceback
        detail = " ".join(str(exc).split()) or type(exc).__name__
        print(f"error: {args.command}: {type(exc).__name__}: {detail}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
