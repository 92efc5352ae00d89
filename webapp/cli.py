"""The ``ansvarsgruppe`` command."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from webapp.config import PROJECT_ROOT


def _app(**overrides):
    from webapp import create_app
    return create_app(overrides)


@click.group()
def main() -> None:
    """ansvarsgruppe – responsibility groups run as BPMN processes."""


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Create or upgrade the database schema (SQLite under instance/ or DATABASE_URL)."""
    from webapp.migrate import upgrade
    app = _app()
    upgrade(app.config["DATABASE_URL"])
    click.echo(f"Database is up to date: {_display_url(app.config['DATABASE_URL'])}")


@main.group()
def processes() -> None:
    """The process library (BPMN diagrams and forms)."""


@processes.command("validate")
@click.argument("path", required=False, type=click.Path(exists=True, path_type=Path))
@click.option("--forms", "forms_dir", type=click.Path(path_type=Path), help="Forms folder (default: ../forms beside PATH, or the project's forms/)")
def processes_validate(path: Path | None, forms_dir: Path | None) -> None:
    """Validate diagrams in PATH (a folder or one file; default: the project's processes/)."""
    from handlers import REGISTRY
    from webapp.engine.library import LibrarySource, check_library, read_directory
    path = path or PROJECT_ROOT / "processes"
    folder = path if path.is_dir() else path.parent
    forms_dir = forms_dir or (folder.parent / "forms" if (folder.parent / "forms").is_dir() else PROJECT_ROOT / "forms")
    source = read_directory(folder, forms_dir)
    if path.is_file():
        try:
            source = LibrarySource({path.name: path.read_bytes().decode("utf-8")}, source.forms)
        except UnicodeDecodeError:
            click.echo(f"{path.name}: filen er ikke UTF-8-tekst", err=True)
            sys.exit(1)
    from webapp.taskforms.providers import provider_names
    checked = check_library(source, REGISTRY.keys(), provider_names())
    for problem in checked.problems:
        click.echo(str(problem), err=True)
    if checked.problems:
        click.echo(f"{len(checked.problems)} problem(s) found.", err=True)
        sys.exit(1)
    for process_id, (name, files, forms) in sorted(checked.processes.items()):
        click.echo(f"ok  {process_id} ({name}) – {', '.join(files)}; forms: {', '.join(forms) or '–'}")


@processes.command("migrate")
@click.argument("process_id")
@click.option("--to", "to_version", type=int, required=True, help="The version to move to.")
@click.option("--dry-run", is_flag=True, help="Only say which instances can move, and why not.")
def processes_migrate(process_id: str, to_version: int, dry_run: bool) -> None:
    """Move the running instances of PROCESS_ID to another version (checked per instance; unsafe
    instances stay where they are)."""
    from sqlalchemy import select
    from webapp.engine.models import ProcessDefinition, ProcessInstance
    app = _app()
    services = app.extensions["ansvarsgruppe"]
    with services.db.session() as s:
        ids = list(s.scalars(select(ProcessInstance.id).join(ProcessDefinition)
                             .where(ProcessDefinition.process_id == process_id,
                                    ProcessInstance.status.in_(("running", "incident")),
                                    ProcessDefinition.version != to_version)
                             .order_by(ProcessInstance.id)))
    try:
        results = services.engine.migrate(ids, process_id, to_version, dry_run=dry_run)
    except LookupError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    movable = sum(r.can_move for r in results)
    for r in results:
        verdict = ("moved" if r.moved else "can move") if r.can_move else "stays"
        line = f"instance {r.instance_id} (case {r.case_id}) v{r.from_version} -> v{r.to_version}: {verdict}"
        click.echo(line + ("" if r.can_move else f" – {'; '.join(r.reasons)}"))
    action = "can move" if dry_run else "moved"
    click.echo(f"{len(results)} instance(s) on other versions; {movable} {action}, {len(results) - movable} stay.")


@processes.command("deploy")
def processes_deploy() -> None:
    """Deploy changed diagrams as new versions (and start the evaluation cycle and transition
    reviews that active groups from before an upgrade lack)."""
    app = _app()
    _deploy(app)


def _deploy(app) -> None:
    from webapp.cases.upkeep import fill_national_id_digests, start_missing_cycles
    from webapp.engine.operations import deploy_library
    from webapp.engine.parsing import DiagramError
    services = app.extensions["ansvarsgruppe"]
    try:
        created = deploy_library(services.db, services.clock, Path(app.config["PROCESSES_DIR"]),
                                 Path(app.config["FORMS_DIR"]), services.engine.handlers.keys(),
                                 provider_names=services.engine.hooks.provider_names())
    except DiagramError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    for definition in created:
        click.echo(f"deployed {definition.process_id} version {definition.version}")
    filled = fill_national_id_digests(services)
    if filled:
        click.echo(f"stored the keyed digest of {filled} national identity number(s)")
    started = start_missing_cycles(services)
    if started:
        click.echo(f"scheduled {started} evaluation or transition review episode(s) for active groups")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
@click.option("--reset", is_flag=True, help="Delete the demo database first.")
@click.option("--profile", "profile", metavar="NAME", help="Apply a municipality profile (profiles/NAME) after seeding.")
def demo(host: str, port: int, reset: bool, profile: str | None) -> None:
    """Create the embedded database, load processes, seed demo data and serve it."""
    from webapp import create_app
    from webapp.demo import DEMO_PASSWORD, DEMO_USERS, seed
    from webapp.migrate import upgrade
    from webapp.worker import start_thread
    if profile is not None:
        _check_profile(profile)
    overrides = {"DEMO": True, "SESSION_COOKIE_SECURE": False,
                 "DEMO_USERS": {"password": DEMO_PASSWORD, "users": [(u, d) for u, _n, _r, d in DEMO_USERS]}}
    app = create_app(overrides)
    url = app.config["DATABASE_URL"]
    if reset and url.startswith("sqlite:///"):
        app.extensions["ansvarsgruppe"].db.dispose()
        for suffix in ("", "-wal", "-shm"):
            Path(url[len("sqlite:///"):] + suffix).unlink(missing_ok=True)
    upgrade(url)
    _deploy(app)
    seed(app)
    if profile is not None:
        _apply_profile(app, profile)
    click.echo("\nDemo users (password for all: %s):" % DEMO_PASSWORD)
    for username, _name, _roles, description in DEMO_USERS:
        click.echo(f"  {username:<14} {description}")
    click.echo(f"\nOpen http://{host}:{port}/  (Ctrl+C to stop)\n")
    start_thread(app)
    _serve(app, host, port)


def _check_profile(name: str) -> None:
    """Stop with the names there are when ``name`` is no profile, or with what is wrong with it."""
    from webapp.profiles.catalogue import ProfileError, get_profile, profile_names
    names = profile_names()
    if name not in names:
        click.echo(f"Unknown profile '{name}'. Profiles: {', '.join(names) or '(none)'}", err=True)
        sys.exit(1)
    try:
        get_profile(name)
    except ProfileError as exc:
        click.echo(f"Profile '{name}' cannot be used: {exc}", err=True)
        sys.exit(1)


def _apply_profile(app, name: str) -> None:
    from sqlalchemy import select
    from webapp.auth.models import User
    from webapp.profiles.operations import apply
    services = app.extensions["ansvarsgruppe"]
    with services.db.session() as s:
        admin_id = s.scalar(select(User.id).where(User.username == "admin"))
    result = apply(services, name, admin_id)
    changed = ", ".join(result.settings) or "no settings"
    published = ", ".join(f"{p} v{v}" for p, v in result.published.items()) or "no diagram variants"
    click.echo(f"Profile {name} ({result.profile.title}): changed {changed}; published {published}.")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True)
@click.option("--threads", default=8, show_default=True)
@click.option("--worker/--no-worker", default=True, show_default=True,
              help="Run the timer/outbox worker in this process.")
def serve(host: str, port: int, threads: int, worker: bool) -> None:
    """Serve the application with a production WSGI server (no demo data)."""
    from webapp.worker import start_thread
    app = _app()
    _deploy(app)
    if worker:
        start_thread(app)
    _serve(app, host, port, threads)


@main.command()
@click.option("--once", is_flag=True, help="Run until nothing is due, then exit.")
def worker(once: bool) -> None:
    """Fire due timers and send the outbox (several may run side by side on PostgreSQL)."""
    import threading
    from webapp.worker import run_forever, run_until_idle
    app = _app()
    if once:
        busy = run_until_idle(app)
        click.echo(f"fired or started {busy.fired}, sent {busy.sent} message(s) in {busy.rounds} round(s)")
        return
    from webapp import freeze_startup_objects
    freeze_startup_objects()
    try:
        run_forever(app, threading.Event())
    except KeyboardInterrupt:
        pass


def _serve(app, host: str, port: int, threads: int = 8) -> None:
    from waitress import serve as waitress_serve
    from webapp import freeze_startup_objects
    from webapp.config import waitress_options
    freeze_startup_objects()
    waitress_serve(app, host=host, port=port, threads=threads, ident="ansvarsgruppe",
                   **waitress_options(app.config))


def _display_url(url: str) -> str:
    if "@" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url
