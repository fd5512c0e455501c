"""Letters to PDF (issue 15): letters per second and memory, against HTML in the same run.

``python -m bench.letters [--letters 10000] [--batch 500] [--runs 3]``. Both sides take
the same letters (a dunning text with the debtor's name, address and open amount):

- pdf: ``letters.render_with_pages`` per print batch of ``--batch`` letters, as a print
  batch draws them (address window, letterhead, page numbers, an EPC QR code each);
- html: the same letters rendered to HTML pages by Jinja2 (the peer: what an email of
  the same text costs), joined as one document per batch.

Medians of ``--runs``; peak memory is tracemalloc's peak over one run of each side.
"""

from __future__ import annotations

import argparse
import statistics
import time
import tracemalloc
from collections.abc import Callable
from decimal import Decimal

import jinja2

import procedo.messaging.letters as letters

HEAD = letters.Letterhead(
    "Acme Incasso BV", "Keizersgracht 1\n1015 AA Amsterdam", "NL91ABNA0417164300", "ABNANL2A"
)
BODY = (
    "Geachte {name},\n\nVolgens onze administratie staat er nog € {amount} open.\n"
    "Wij verzoeken u dit bedrag binnen 14 dagen te voldoen.\n\nMet vriendelijke groet,\nAcme"
)
PAGE = jinja2.Environment(autoescape=True).from_string(
    "<article><address>{{ l.recipient }}</address><p>{{ l.date }}</p><h1>{{ l.subject }}</h1>"
    "{% for p in l.body.split('\\n\\n') %}<p>{{ p }}</p>{% endfor %}"
    "<p>IBAN {{ head.iban }} · € {{ l.payment.amount }}</p></article>"
)


def sample(n: int) -> list[letters.Letter]:
    return [
        letters.Letter(
            recipient=f"Debiteur {i} BV\nDorpsstraat {i % 300 + 1}\n1234 AB Ergens",
            subject=f"Aanmaning factuur 2026-{i:05d}",
            body=BODY.format(name=f"Debiteur {i} BV", amount=f"{100 + i % 900},50"),
            date="3 december 2026",
            customer=f"D{i}",
            payment=letters.Payment(Decimal(100 + i % 900) + Decimal("0.50")),
        )
        for i in range(n)
    ]


def _batches(items: list[letters.Letter], size: int) -> list[list[letters.Letter]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def pdf_side(items: list[letters.Letter], size: int) -> int:
    return sum(len(letters.render_with_pages(batch, HEAD)[0]) for batch in _batches(items, size))


def html_side(items: list[letters.Letter], size: int) -> int:
    return sum(
        len("".join(PAGE.render(l=letter, head=HEAD) for letter in batch))
        for batch in _batches(items, size)
    )


def measure(
    side: Callable[[list[letters.Letter], int], int],
    items: list[letters.Letter],
    size: int,
    runs: int,
) -> tuple[float, float, int]:
    """(median seconds, peak MiB, bytes out)."""
    times = []
    out = 0
    for _ in range(runs):
        start = time.perf_counter()
        out = side(items, size)
        times.append(time.perf_counter() - start)
    tracemalloc.start()
    side(items, size)
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return statistics.median(times), peak, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--letters", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    items = sample(args.letters)
    pdf, pdf_peak, pdf_bytes = measure(pdf_side, items, args.batch, args.runs)
    html, html_peak, html_bytes = measure(html_side, items, args.batch, args.runs)
    n = args.letters
    print(f"letters: {n}, batches of {args.batch}, median of {args.runs} runs")
    for name, seconds, peak, size in (
        ("pdf ", pdf, pdf_peak, pdf_bytes),
        ("html", html, html_peak, html_bytes),
    ):
        rate, per_letter = n / seconds, size / n / 1024
        print(f"{name}: {rate:8.0f} letters/s  peak {peak:6.1f} MiB  {per_letter:.1f} KiB/letter")
    print(f"pdf takes {pdf / html:.0f}x the time of html")


if __name__ == "__main__":
    main()
