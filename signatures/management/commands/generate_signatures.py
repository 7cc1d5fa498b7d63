# Name lists are long lines of real-world letters (dotless i, typographic apostrophes) on purpose;
# the randomness is for test data, not secrets.
# ruff: noqa: E501, RUF001, S311
"""
Fill a letter with many realistic signatures, fast: for benchmarks, load tests
and trying the public list at scale. Never run it against real data.

On PostgreSQL rows go in with COPY from worker processes, each on its own
connection, into the table stripped of its secondary indexes and foreign keys,
which are rebuilt at the end (bench/SCALING.md has the figures); elsewhere with
bulk_create. The counters are then recomputed from the rows, so the letter's
counts are exact when it finishes.
"""

from __future__ import annotations

import io
import json
import multiprocessing
import os
import random
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from datetime import datetime, timedelta
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, connections, transaction
from django.utils import timezone

from signatures import services
from signatures.management.commands.create_demo_letter import SLUG
from signatures.models import Letter, Signature
from signatures.text import name_key

# Names from several languages and scripts, so that search, sorting and
# rendering meet accents, ligatures and non-Latin text.
FIRST_NAMES = (
    "Agnès", "Amélie", "Anaïs", "Antoine", "Céline", "Chloé", "Clément", "François", "Hélène", "Jérôme",
    "José", "María", "Lucía", "Sofía", "Álvaro", "Andrés", "Inés", "Martín", "Ramón", "Begoña",
    "Jürgen", "Jörg", "Björn", "Dörte", "Günther", "Müge", "Çağla", "Gülşen", "Şebnem", "Özlem",
    "Małgorzata", "Łukasz", "Wojciech", "Zofia", "Jiří", "Tomáš", "Žofie", "Dvořák", "Ilona", "Ágnes",
    "Søren", "Ørjan", "Åsa", "Siobhán", "Seán", "Aoife", "Niamh", "Caoimhe", "Eoghan", "Tadhg",
    "João", "Conceição", "Gonçalo", "Leilani", "Kalani", "Nguyễn", "Thảo", "Phương", "Đức", "Huệ",
    "Ωmega", "Νίκος", "Ελένη", "Γιάννης", "Δήμητρα", "Анна", "Иван", "Ольга", "Дмитрий", "Наталья",
    "محمد", "فاطمة", "علي", "ليلى", "יעל", "דוד", "अनुष्का", "राहुल", "さくら", "健太",
    "美咲", "翔太", "지민", "서연", "민준", "伟", "芳", "静", "Oluwaseun", "Chinwe",
    "Adébáyọ̀", "Ngozi", "Kwame", "Ama", "Thandiwe", "Sipho", "Zoë", "Noël", "Renée", "Maëlle",
    "Alex", "Sam", "Jordan", "Taylor", "Morgan", "Robin", "Kim", "Lee", "Ana", "Jan",
)  # fmt: skip
LAST_NAMES = (
    "López", "García", "Martínez", "Hernández", "Pérez", "Sánchez", "Muñoz", "Álvarez", "Jiménez", "Núñez",
    "Lefèvre", "Girard", "Bérénger", "Dubois", "Moreau", "Léger", "Fournier", "Garnier", "Rousseau", "Perrin",
    "Müller", "Schäfer", "Schröder", "Köhler", "Groß", "Weiß", "Krüger", "Böhm", "Jäger", "Fuß",
    "Kowalska", "Wiśniewski", "Wójcik", "Kamiński", "Zieliński", "Szymański", "Dąbrowski", "Kozłowska", "Novák", "Dvořáková",
    "Sørensen", "Ødegård", "Ångström", "Øster", "Ó Súilleabháin", "Ní Bhriain", "O’Connor", "MacAodha", "D’Arcy", "Ó Sé",
    "Gonçalves", "Conceição", "Magalhães", "Brandão", "Simões", "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng",
    "Παπαδόπουλος", "Κωνσταντίνου", "Οικονόμου", "Иванова", "Смирнов", "Кузнецова", "Попов", "Соколова", "Лебедев", "Новикова",
    "الحسن", "العلي", "منصور", "כהן", "לוי", "शर्मा", "वर्मा", "佐藤", "鈴木", "高橋",
    "田中", "김", "이", "박", "王", "李", "张", "Adébáyọ̀", "Okonkwo", "Mensah",
    "Ndlovu", "Dlamini", "Yılmaz", "Kaya", "Demir", "Şahin", "Çelik", "Öztürk", "Smith", "Jones",
)  # fmt: skip
TITLES = ("", "", "", "", "Head of department", "Freelance", "Student", "Retired", "Lead", "Assistant")
AFFILIATIONS = (
    "", "", "", "Studio Ghibli-ish", "Ciné-Tamaris", "Orchestre de Paris", "Teatro Real", "BBC Philharmonic",
    "Independent", "Writers' Guild", "Musicians' Union", "Ealing Studios", "Babelsberg", "Cinecittà", "Estudios Churubusco",
)  # fmt: skip
PLACES = (
    ("Paris", "France"), ("Lyon", "France"), ("Madrid", "Spain"), ("Sevilla", "Spain"), ("Berlin", "Germany"),
    ("München", "Germany"), ("Kraków", "Poland"), ("Praha", "Czechia"), ("København", "Denmark"), ("Dublin", "Ireland"),
    ("Lisboa", "Portugal"), ("São Paulo", "Brazil"), ("Hà Nội", "Vietnam"), ("Αθήνα", "Greece"), ("Москва", "Russia"),
    ("القاهرة", "Egypt"), ("תל אביב", "Israel"), ("मुंबई", "India"), ("東京", "Japan"), ("서울", "South Korea"),
    ("北京", "China"), ("Lagos", "Nigeria"), ("Accra", "Ghana"), ("Johannesburg", "South Africa"), ("İstanbul", "Türkiye"),
    ("London", "United Kingdom"), ("Glasgow", "United Kingdom"), ("New York", "United States"), ("", ""), ("", ""),
)  # fmt: skip
DOMAINS = ("example.org", "example.com", "example.net", "mail.example", "studio.example", "union.example")
LANGUAGES = ("en", "en", "en", "fr", "es")

State = Signature.State
# (state, share): most signatures end up public, as on a real letter.
STATE_MIX = (
    (State.APPROVED, 86),
    (State.CONFIRMED, 4),
    (State.SUBMITTED, 5),
    (State.REJECTED, 3),
    (State.WITHDRAWN, 2),
)
# What a withdrawal leaves of a signature (services.ERASED_ON_WITHDRAWAL, where defined, wins).
WITHDRAWN_ERASED = {
    "full_name": "",
    "email": "",
    "email_normalized": "",
    "email_domain": "",
    "title": "",
    "affiliation": "",
    "city": "",
    "country": "",
    "wants_listing": False,
    "is_notable": False,
}
LISTED_SHARE = 0.8
NOTABLE_SHARE = 0.0005
VERIFIED_SHARE = 0.01
OTHER_PROFESSION_SHARE = 0.05
HELD_SHARE_OF_CONFIRMED = 0.25


def _copy_text(value: Any) -> str:
    """A value in PostgreSQL's COPY text format."""
    if value is None:
        return r"\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict | list):
        value = json.dumps(value)
    text = str(value)
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        text = text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return text


def _text_or_null(value: Any) -> str:
    return r"\N" if value is None else str(value)


def _datetime_or_null(value: datetime | None) -> str:
    return r"\N" if value is None else value.isoformat()


def _boolean(value: bool) -> str:
    return "t" if value else "f"


def _converter(column: str) -> Any:
    """A fast COPY-text writer for one drawn column: ten million rows times twenty columns adds up."""
    if column in ("wants_listing", "is_verified", "is_notable"):
        return _boolean
    if column.endswith("_at"):
        return _datetime_or_null
    if column.endswith("_id"):
        return _text_or_null
    # Every drawn text comes from the lists above, none with a tab, newline or backslash.
    return str


# The columns a signature draws; every other column keeps the model's default.
DRAWN = (
    "letter_id", "full_name", "name_key", "email", "email_normalized", "email_domain", "profession_id",
    "title", "affiliation", "city", "country", "wants_listing", "listing_consent_at", "language", "state",
    "hold_reason", "created_at", "confirmed_at", "approved_at", "rejected_at", "withdrawn_at", "is_verified",
    "is_notable",
)  # fmt: skip


class Generator:
    """
    Draws signatures as tuples of the DRAWN columns. A chunk's rows depend only
    on the seed and the chunk's number, so a seeded load is the same however
    many processes share it.
    """

    def __init__(self, letter: Letter, *, seed: int | None, now: datetime, days: int, count: int) -> None:
        self.letter_id = letter.pk
        self.seed = seed if seed is not None else random.randrange(2**32)
        self.now = now
        self.span_seconds = days * 86400
        self.count = max(count, 1)
        self.professions = list(letter.professions.values_list("pk", flat=True))
        self.run = uuid.uuid4().hex[:8]
        self.states = [state for state, weight in STATE_MIX for _ in range(weight)]
        # Names come from fixed lists: fold each of the 12,000 combinations once, not ten million times.
        self.names = [(f"{first} {last}", name_key(f"{first} {last}")) for first in FIRST_NAMES for last in LAST_NAMES]
        with connection.cursor() as cursor:
            table = connection.introspection.get_table_description(cursor, Signature._meta.db_table)
        existing = {column.name for column in table}
        fields = [f for f in Signature._meta.concrete_fields if not f.primary_key and f.column in existing]
        self.has_listing_consent = "listing_consent_at" in existing
        drawn = DRAWN if self.has_listing_consent else tuple(c for c in DRAWN if c != "listing_consent_at")
        self.drawn = drawn
        # Columns this generator does not draw (added later) get the model's default.
        self.defaults = {f.column: f.get_default() for f in fields if f.column not in drawn}
        self.columns = [*drawn, *self.defaults]
        self.converters = [_converter(c) for c in drawn]
        self.default_text = "".join("\t" + _copy_text(value) for value in self.defaults.values())
        erased = {**WITHDRAWN_ERASED, **getattr(services, "ERASED_ON_WITHDRAWAL", {})}
        self.erased = {drawn.index(c): value for c, value in erased.items() if c in drawn}
        self.erased[drawn.index("name_key")] = ""
        if self.has_listing_consent:
            self.erased[drawn.index("listing_consent_at")] = None
        self.withdrawn_at = drawn.index("withdrawn_at")

    def rows(self, chunk: int, start: int, size: int) -> Iterator[tuple[Any, ...]]:
        """Rows start..start+size of chunk number `chunk`."""
        # random() and indexing rather than choice() and randint(): the same uniform
        # draws at a third of the cost, which counts ten million times.
        uniform = random.Random(f"{self.seed}:{chunk}").random
        names, professions, states = self.names, self.professions, self.states
        now, span, run, letter_id, count = self.now, self.span_seconds, self.run, self.letter_id, self.count
        listing = self.has_listing_consent
        holds = (Signature.HoldReason.IP_LIMIT, Signature.HoldReason.WATCHLIST)
        minute = timedelta(minutes=1)
        for n in range(start, start + size):
            state = states[int(uniform() * len(states))]
            full_name, key = names[int(uniform() * len(names))]
            domain = DOMAINS[int(uniform() * len(DOMAINS))]
            email = f"signer.{run}.{n}@{domain}"
            city, country = PLACES[int(uniform() * len(PLACES))]
            # Row n signs in the n-th slice of the span, anywhere within it: uniform over the
            # span as before, but in time order, so the table's physical order and ids follow
            # time as a real letter's do (and the list and export read it nearly in order).
            created_at = now - timedelta(seconds=span * (1 - (n + uniform()) / count))
            other = not professions or uniform() < OTHER_PROFESSION_SHARE
            wants_listing = uniform() < LISTED_SHARE
            confirmed_at = approved_at = rejected_at = None
            hold_reason = ""
            if state != State.SUBMITTED:
                confirmed_at = created_at + minute * (1 + int(uniform() * 120))
            if state == State.CONFIRMED and uniform() < HELD_SHARE_OF_CONFIRMED:
                hold_reason = holds[int(uniform() * len(holds))]
            elif state == State.APPROVED:
                approved_at = confirmed_at + minute * (1 + int(uniform() * 600))  # type: ignore[operator]
            elif state == State.REJECTED:
                rejected_at = confirmed_at + minute * (1 + int(uniform() * 600))  # type: ignore[operator]
            row = (
                letter_id, full_name, key, email, email, domain,
                None if other else professions[int(uniform() * len(professions))],
                "Sound designer" if other else TITLES[int(uniform() * len(TITLES))],
                AFFILIATIONS[int(uniform() * len(AFFILIATIONS))], city, country, wants_listing,
                *((created_at if wants_listing else None,) if listing else ()),
                LANGUAGES[int(uniform() * len(LANGUAGES))], state, hold_reason, created_at, confirmed_at,
                approved_at, rejected_at, None, uniform() < VERIFIED_SHARE, uniform() < NOTABLE_SHARE,
            )  # fmt: skip
            if state == State.WITHDRAWN:
                # Withdrawal erases personal data, as the real withdrawal does.
                withdrawn = list(row)
                for index, value in self.erased.items():
                    withdrawn[index] = value
                withdrawn[self.withdrawn_at] = confirmed_at + timedelta(days=1)  # type: ignore[operator]
                row = tuple(withdrawn)
            yield row

    def copy_text(self, chunk: int, start: int, size: int) -> str:
        """The chunk in COPY text format, columns in the order of self.columns."""
        converters, tail = self.converters, self.default_text + "\n"
        return "".join(
            "\t".join([convert(value) for convert, value in zip(converters, row, strict=True)]) + tail
            for row in self.rows(chunk, start, size)
        )

    def signatures(self, chunk: int, start: int, size: int) -> list[Signature]:
        attnames = {f.column: f.attname for f in Signature._meta.concrete_fields}
        return [
            Signature(**{attnames[c]: v for c, v in zip(self.columns, (*row, *self.defaults.values()), strict=True)})
            for row in self.rows(chunk, start, size)
        ]


def _copy_chunk(generator: Generator, chunk: int, start: int, size: int) -> int:
    """Draw one chunk and COPY it in its own transaction; runs in a worker process or in the command's own."""
    text = generator.copy_text(chunk, start, size)
    table = connection.ops.quote_name(Signature._meta.db_table)
    column_list = ", ".join(connection.ops.quote_name(c) for c in generator.columns)
    with transaction.atomic(), connection.cursor() as cursor:
        # Test data: a crash may lose the last second of it, and no commit waits for the disk.
        cursor.execute("SET LOCAL synchronous_commit = off")
        # Django's cursor wrapper hides psycopg2's copy_expert one level down.
        cursor.cursor.copy_expert(f"COPY {table} ({column_list}) FROM STDIN", io.StringIO(text))
    return size


class Command(BaseCommand):
    help = (
        "Add N realistic signatures (mixed states, professions and Unicode names) to a letter, "
        "then recompute its counters. For benchmarks and trying the site at scale."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("count", type=int, help="How many signatures to add.")
        parser.add_argument(
            "--letter", default="", help="The letter's slug (default: the demo letter, created if missing)."
        )
        parser.add_argument("--batch", type=int, default=50_000, help="Rows per COPY or bulk_create batch.")
        parser.add_argument("--seed", type=int, default=None, help="Random seed, for a repeatable data set.")
        parser.add_argument("--days", type=int, default=30, help="Spread the signatures over this many past days.")
        parser.add_argument(
            "--workers",
            type=int,
            default=os.cpu_count() or 1,
            help="On PostgreSQL, processes drawing rows and COPYing them on their own connections.",
        )
        parser.add_argument(
            "--index-rebuild-from",
            type=int,
            default=100_000,
            help="On PostgreSQL, from this many rows drop the secondary indexes and foreign keys, and rebuild "
            "them after the load.",
        )

    def handle(self, *args: Any, count: int, letter: str, batch: int, seed: int | None, days: int, **options) -> None:
        if count < 0 or batch < 1 or options["workers"] < 1:
            raise CommandError("count must be positive, batch and workers at least 1.")
        target = self._letter(letter)
        generator = Generator(target, seed=seed, now=timezone.now(), days=days, count=count)
        started = time.monotonic()
        use_copy = connection.vendor == "postgresql"
        # Other processes cannot see an uncommitted letter (a test's transaction): load in this one.
        workers = options["workers"] if use_copy and not connection.in_atomic_block else 1
        how = f"COPY, {workers} process{'es' if workers > 1 else ''}" if use_copy else "bulk_create"
        self.stdout.write(f"Adding {count:,} signatures to “{target.slug}” ({how})…")
        chunks = [(n, start, min(batch, count - start)) for n, start in enumerate(range(0, count, batch))]
        rebuild = use_copy and count >= options["index_rebuild_from"] and not connection.in_atomic_block
        dropped = self._drop_indexes_and_foreign_keys() if rebuild else ([], [])
        try:
            self._load(generator, chunks, count=count, workers=workers, use_copy=use_copy, started=started)
        finally:
            if rebuild:
                self._rebuild(*dropped, workers=workers)
        self.stdout.write("Recounting the letter's counters…")
        phase = time.monotonic()
        services.recount_letter(letter=target)
        self.stdout.write(f"Recounted in {time.monotonic() - phase:.1f}s.")
        if use_copy and not connection.in_atomic_block:
            # Statistics for the planner and a visibility map for index-only scans now,
            # rather than an autovacuum in the middle of whatever runs next.
            phase = time.monotonic()
            with connection.cursor() as cursor:
                cursor.execute(f"VACUUM (ANALYZE) {connection.ops.quote_name(Signature._meta.db_table)}")
            self.stdout.write(f"Vacuumed and analysed in {time.monotonic() - phase:.1f}s.")
        elapsed = time.monotonic() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"Added {count:,} signatures in {elapsed:.1f}s; “{target.slug}” now counts "
                f"{Letter.objects.get(pk=target.pk).public_count:,} public signatures."
            )
        )

    def _load(
        self, generator: Generator, chunks: list[tuple[int, int, int]], *, count: int, workers: int, use_copy: bool,
        started: float,
    ) -> None:  # fmt: skip
        done = 0
        if not use_copy:
            for chunk in chunks:
                done += len(Signature.objects.bulk_create(generator.signatures(*chunk)))
                self._progress(done, count, started)
            return
        if workers == 1:
            for chunk in chunks:
                done += _copy_chunk(generator, *chunk)
                self._progress(done, count, started)
            return
        # Each worker draws its chunk in Python and COPYs it on its own connection, so
        # drawing and ingesting overlap on every core. A forked child must not share
        # the parent's database socket: close it first; each child opens its own.
        connections.close_all()
        with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork")) as pool:
            for future in as_completed([pool.submit(_copy_chunk, generator, *chunk) for chunk in chunks]):
                done += future.result()
                self._progress(done, count, started)

    def _progress(self, done: int, count: int, started: float) -> None:
        rate = done / max(time.monotonic() - started, 1e-6)
        self.stdout.write(f"  {done:>10,} / {count:,} ({100 * done // max(count, 1)}%), {rate:,.0f} rows/s")
        self.stdout.flush()

    def _drop_indexes_and_foreign_keys(self) -> tuple[list[str], list[str]]:
        """
        Drop the table's secondary indexes and its foreign keys for a big load:
        building an index once over ten million rows is many times faster than
        updating it ten million times, and one join validates a foreign key
        faster than a trigger per row (each taking a share lock on the letter).
        Primary key and constraint indexes stay. Run it while the site is idle:
        one-per-email is not enforced until they are back.
        """
        table = Signature._meta.db_table
        quoted = connection.ops.quote_name(table)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = %s "
                "AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass)",
                [table, table],
            )
            indexes = cursor.fetchall()
            cursor.execute(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass "
                "AND contype = 'f'",
                [table],
            )
            foreign_keys = cursor.fetchall()
            for name, _definition in indexes:
                cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
            for name, _definition in foreign_keys:
                cursor.execute(f"ALTER TABLE {quoted} DROP CONSTRAINT {connection.ops.quote_name(name)}")
        self.stdout.write(
            f"Dropped {len(indexes)} indexes and {len(foreign_keys)} foreign keys for the load; "
            "they are rebuilt at the end."
        )
        quote = connection.ops.quote_name
        return (
            [definition for _name, definition in indexes],
            [f"ALTER TABLE {quoted} ADD CONSTRAINT {quote(name)} {definition}" for name, definition in foreign_keys],
        )

    def _rebuild(self, indexes: list[str], foreign_keys: list[str], *, workers: int) -> None:
        """Build the indexes side by side, one connection per worker, each with room to sort in memory."""
        started = time.monotonic()

        def run(statement: str) -> None:
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SET maintenance_work_mem = '1GB'")
                    cursor.execute("SET statement_timeout = 0")
                    cursor.execute(statement)
            finally:
                connection.close()  # each thread has its own connection

        # The biggest first, so no long build starts last and runs alone.
        biggest_first = sorted(indexes, key=lambda d: ("USING gin" not in d, "UNIQUE" not in d, -len(d)))
        with ThreadPoolExecutor(max_workers=max(workers, 1)) as pool:
            list(pool.map(run, biggest_first))
        self.stdout.write(f"Rebuilt {len(indexes)} indexes in {time.monotonic() - started:.1f}s.")
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=max(workers, 1)) as pool:
            list(pool.map(run, foreign_keys))
        self.stdout.write(
            f"Checked and restored {len(foreign_keys)} foreign keys in {time.monotonic() - started:.1f}s."
        )

    def _letter(self, slug: str) -> Letter:
        if not slug:
            if not Letter.objects.filter(slug=SLUG).exists():
                call_command("create_demo_letter", stdout=io.StringIO())
            slug = SLUG
        try:
            return Letter.objects.get(slug=slug)
        except Letter.DoesNotExist:
            raise CommandError(f"No letter with slug {slug!r}.") from None
