# Name lists are long lines of real-world letters (dotless i, typographic apostrophes) on purpose;
# the randomness is for test data, not secrets.
# ruff: noqa: E501, RUF001, S311
"""
Fill a letter with many realistic signatures, fast: for benchmarks, load tests
and trying the public list at scale. Never run it against real data.

On PostgreSQL rows go in with COPY (a million in well under two minutes on two
cores); elsewhere with bulk_create. The counters are then recomputed from the
rows, so the letter's counts are exact when it finishes.
"""

from __future__ import annotations

import io
import random
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
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
    text = str(value)
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        text = text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return text


def _null_or(convert: Any) -> Any:
    return lambda value: r"\N" if value is None else convert(value)


def _converter(field: Any) -> Any:
    """A fast COPY-text writer for one column: a million rows times thirty columns adds up."""
    internal = field.get_internal_type()
    if internal == "BooleanField":
        return lambda value: "t" if value else "f"
    if internal == "DateTimeField":
        return _null_or(datetime.isoformat)
    if internal in ("ForeignKey", "BigAutoField", "BigIntegerField", "IntegerField", "PositiveIntegerField"):
        return _null_or(str)
    return _copy_text


class Generator:
    """Makes rows as {column: value} dicts; every column the model has gets a value."""

    def __init__(self, letter: Letter, *, seed: int | None, now: datetime, days: int) -> None:
        self.letter = letter
        self.random = random.Random(seed)
        self.now = now
        self.span_seconds = days * 86400
        self.professions = list(letter.professions.values_list("pk", flat=True))
        self.run = uuid.uuid4().hex[:8]
        self.states = [state for state, weight in STATE_MIX for _ in range(weight)]
        self.name_keys: dict[str, str] = {}
        with connection.cursor() as cursor:
            table = connection.introspection.get_table_description(cursor, Signature._meta.db_table)
        existing = {column.name for column in table}
        fields = [f for f in Signature._meta.concrete_fields if not f.primary_key and f.column in existing]
        self.columns = [f.column for f in fields]
        self.converters = [_converter(f) for f in fields]
        # Columns this generator does not know (added later) get the model's default.
        self.defaults = {f.column: f.get_default() for f in fields}

    def rows(self, count: int) -> Iterator[dict[str, Any]]:
        rnd = self.random
        for n in range(count):
            state = rnd.choice(self.states)
            first, last = rnd.choice(FIRST_NAMES), rnd.choice(LAST_NAMES)
            full_name = f"{first} {last}"
            key = self.name_keys.get(full_name)
            if key is None:
                key = self.name_keys[full_name] = name_key(full_name)
            domain = rnd.choice(DOMAINS)
            email = f"signer.{self.run}.{n}@{domain}"
            city, country = rnd.choice(PLACES)
            created_at = self.now - timedelta(seconds=rnd.random() * self.span_seconds)
            other = not self.professions or rnd.random() < OTHER_PROFESSION_SHARE
            wants_listing = rnd.random() < LISTED_SHARE
            row = dict(self.defaults)
            row.update(
                letter_id=self.letter.pk,
                full_name=full_name,
                name_key=key,
                email=email,
                email_normalized=email,
                email_domain=domain,
                profession_id=None if other else rnd.choice(self.professions),
                title="Sound designer" if other else rnd.choice(TITLES),
                affiliation=rnd.choice(AFFILIATIONS),
                city=city,
                country=country,
                comment="",
                wants_listing=wants_listing,
                language=rnd.choice(LANGUAGES),
                state=state,
                hold_reason="",
                created_at=created_at,
                confirmed_at=None,
                approved_at=None,
                rejected_at=None,
                withdrawn_at=None,
                is_verified=rnd.random() < VERIFIED_SHARE,
                is_notable=rnd.random() < NOTABLE_SHARE,
                ip_hash="",
            )
            if "listing_consent_at" in row and wants_listing:
                row["listing_consent_at"] = created_at
            if state != State.SUBMITTED:
                row["confirmed_at"] = created_at + timedelta(minutes=rnd.randint(1, 120))
            if state == State.CONFIRMED and rnd.random() < HELD_SHARE_OF_CONFIRMED:
                row["hold_reason"] = rnd.choice((Signature.HoldReason.IP_LIMIT, Signature.HoldReason.WATCHLIST))
            elif state == State.APPROVED:
                row["approved_at"] = row["confirmed_at"] + timedelta(minutes=rnd.randint(1, 600))
            elif state == State.REJECTED:
                row["rejected_at"] = row["confirmed_at"] + timedelta(minutes=rnd.randint(1, 600))
            elif state == State.WITHDRAWN:
                # Withdrawal erases personal data, as the real withdrawal does.
                row.update(WITHDRAWN_ERASED)
                row.update(getattr(services, "ERASED_ON_WITHDRAWAL", {}))
                row.update(name_key="", withdrawn_at=row["confirmed_at"] + timedelta(days=1))
                if "listing_consent_at" in row:
                    row["listing_consent_at"] = None
            yield row


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
            "--index-rebuild-from",
            type=int,
            default=100_000,
            help="On PostgreSQL, from this many rows drop the secondary indexes and rebuild them after the load.",
        )

    def handle(self, *args: Any, count: int, letter: str, batch: int, seed: int | None, days: int, **options) -> None:
        if count < 0 or batch < 1:
            raise CommandError("count must be positive and batch at least 1.")
        target = self._letter(letter)
        generator = Generator(target, seed=seed, now=timezone.now(), days=days)
        started = time.monotonic()
        use_copy = connection.vendor == "postgresql"
        self.stdout.write(f"Adding {count:,} signatures to “{target.slug}” ({'COPY' if use_copy else 'bulk_create'})…")
        rows = generator.rows(count)
        dropped = self._drop_indexes() if use_copy and count >= options["index_rebuild_from"] else []
        try:
            self._load(generator, rows, count=count, batch=batch, use_copy=use_copy, started=started)
        finally:
            if dropped:
                self._recreate_indexes(dropped)
        self.stdout.write("Recounting the letter's counters…")
        services.recount_letter(letter=target)
        if use_copy and not connection.in_atomic_block:
            # Statistics for the planner and a visibility map for index-only scans now,
            # rather than an autovacuum in the middle of whatever runs next.
            with connection.cursor() as cursor:
                cursor.execute(f"VACUUM (ANALYZE) {connection.ops.quote_name(Signature._meta.db_table)}")
        elapsed = time.monotonic() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"Added {count:,} signatures in {elapsed:.1f}s; “{target.slug}” now counts "
                f"{Letter.objects.get(pk=target.pk).public_count:,} public signatures."
            )
        )

    def _load(
        self, generator: Generator, rows: Iterator[dict[str, Any]], *, count: int, batch: int, use_copy: bool,
        started: float,
    ) -> None:  # fmt: skip
        sizes = [min(batch, count - done) for done in range(0, count, batch)]
        if use_copy:
            # Python draws the next batch while PostgreSQL ingests this one: two cores, both busy.
            with ThreadPoolExecutor(max_workers=1) as pool:
                pending = pool.submit(self._copy_buffer, generator, rows, sizes[0]) if sizes else None
                for n in range(len(sizes)):
                    buffer = pending.result()  # type: ignore[union-attr]
                    if n + 1 < len(sizes):
                        pending = pool.submit(self._copy_buffer, generator, rows, sizes[n + 1])
                    with transaction.atomic():
                        self._copy(buffer, generator.columns)
                    self._progress(sum(sizes[: n + 1]), count, started)
            return
        attnames = {f.column: f.attname for f in Signature._meta.concrete_fields}
        for n, size in enumerate(sizes):
            chunk = [next(rows) for _ in range(size)]
            Signature.objects.bulk_create(
                [Signature(**{attnames[c]: row[c] for c in generator.columns}) for row in chunk]
            )
            self._progress(sum(sizes[: n + 1]), count, started)

    def _progress(self, done: int, count: int, started: float) -> None:
        rate = done / max(time.monotonic() - started, 1e-6)
        self.stdout.write(f"  {done:>10,} / {count:,} ({100 * done // max(count, 1)}%), {rate:,.0f} rows/s")

    def _drop_indexes(self) -> list[tuple[str, str]]:
        """
        Drop the table's secondary indexes for a big load: building an index
        once over a million rows is many times faster than updating it a
        million times. Primary key and constraint indexes stay. Run it while
        the site is idle: one-per-email is not enforced until they are back.
        """
        table = Signature._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = %s "
                "AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass)",
                [table, table],
            )
            indexes = cursor.fetchall()
            for name, _definition in indexes:
                cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
        self.stdout.write(f"Dropped {len(indexes)} indexes for the load; they are rebuilt at the end.")
        return indexes

    def _recreate_indexes(self, indexes: list[tuple[str, str]]) -> None:
        started = time.monotonic()
        with connection.cursor() as cursor:
            cursor.execute("SET maintenance_work_mem = '256MB'")
            for _name, definition in indexes:
                cursor.execute(definition)
        self.stdout.write(f"Rebuilt {len(indexes)} indexes in {time.monotonic() - started:.1f}s.")

    def _letter(self, slug: str) -> Letter:
        if not slug:
            if not Letter.objects.filter(slug=SLUG).exists():
                call_command("create_demo_letter", stdout=io.StringIO())
            slug = SLUG
        try:
            return Letter.objects.get(slug=slug)
        except Letter.DoesNotExist:
            raise CommandError(f"No letter with slug {slug!r}.") from None

    @staticmethod
    def _copy_buffer(generator: Generator, rows: Iterator[dict[str, Any]], size: int) -> io.StringIO:
        pairs = list(zip(generator.columns, generator.converters, strict=True))
        buffer = io.StringIO()
        for _ in range(size):
            row = next(rows)
            buffer.write("\t".join([convert(row[c]) for c, convert in pairs]) + "\n")
        buffer.seek(0)
        return buffer

    @staticmethod
    def _copy(buffer: io.StringIO, columns: list[str]) -> None:
        table = connection.ops.quote_name(Signature._meta.db_table)
        column_list = ", ".join(connection.ops.quote_name(c) for c in columns)
        with connection.cursor() as cursor:
            # Django's cursor wrapper hides psycopg2's copy_expert one level down.
            cursor.cursor.copy_expert(f"COPY {table} ({column_list}) FROM STDIN", buffer)
