"""Card numbers and the groupings customers and mail clients write them in (shared by the PCI tests)."""
from __future__ import annotations

PANS = {
    "visa16": "4111111111111111",
    "mc5": "5500000000000004",
    "mc2": "2221000000000009",
    "amex15": "378282246310005",
    "discover": "6011111111111117",
    "len19": "6304000000000000018",
    "visa13": "4222222222222",
}

FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def _groups(pan: str, sizes=(4, 4, 4, 4, 4)) -> list[str]:
    out, i = [], 0
    for size in sizes:
        if i >= len(pan):
            break
        out.append(pan[i:i + size])
        i += size
    if i < len(pan):
        out.append(pan[i:])
    return out


def groupings(pan: str) -> dict[str, str]:
    """Every way of writing ``pan`` the finder must catch (at least the issue's list)."""
    g = _groups(pan)
    out = {sep_name: sep.join(g) for sep_name, sep in {
        "spaces": " ", "dashes": "-", "dots": ".", "nbsp": "\u00a0", "en_dash": "\u2013", "em_dash": "\u2014",
        "minus": "\u2212", "tabs": "\t", "four_spaces": "    ", "slash": "/", "underscore": "_", "comma": ",",
        "pipe": "|", "star": "*", "colon": ":", "plus": "+", "tilde": "~", "spaced_dash": " - ", "thin": "\u2009",
        "newline": "\n", "crlf": "\r\n", "dash_newline": "-\n"}.items()}
    out["contiguous"] = pan
    out["mixed"] = f"{g[0]} {g[1]}-{g[2]}.{''.join(g[3:])}"
    out["wrapped"] = pan[:7] + "\n" + pan[7:]
    out["fullwidth"] = pan.translate(FULLWIDTH)
    out["arabic_indic"] = pan.translate(ARABIC_INDIC)
    out["zero_width"] = "\u200b".join(pan)
    out["no_dot"] = "no." + pan
    out["was_charged"] = " ".join(g) + " was charged"
    out["amex_4_6_5"] = f"{pan[:4]} {pan[4:10]} {pan[10:]}"
    return out


def sample_groupings() -> list[tuple[str, str, str]]:
    """A fixed sample for `make test`: each PAN kind at least once, each grouping at least once."""
    names = list(groupings(PANS["visa16"]))
    kinds = list(PANS)
    return [(kinds[i % len(kinds)], name, groupings(PANS[kinds[i % len(kinds)]])[name]) for i, name in enumerate(names)]
