"""ansvarsgruppe: the Flask application (application factory)."""
from __future__ import annotations

import gc
from pathlib import Path

from flask import Flask, g, request, session
from flask_babel import Babel
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from webapp import config as config_module
from webapp.audit.access_log import AccessLog
from webapp.auth import passwords
from webapp.auth.cookies import CookieSessions
from webapp.cases import identity
from webapp.clock import Clock
from webapp.db import Database
from webapp.services import Services, build_engine, close_session

class IdConverter(IntegerConverter):
    """Database ids in URLs: positive and within a 32-bit integer, so a huge number is a 404
    rather than a database overflow."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


#: Browser features the app never uses, switched off for its pages.
PERMISSIONS_POLICY = ("accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
                      "microphone=(), payment=(), usb=()")

csrf = CSRFProtect()
babel = Babel()


def select_locale() -> str:
    """The browser's choice (``/sprak``), else the logged-in user's (kept on the account), else bokmål."""
    lang = session.get("lang")
    if lang in ("nb", "nn", "en"):
        return lang
    user = g.get("user")
    if user is not None and user.language in ("nn", "en"):
        return user.language
    return "nb"


def create_app(overrides: dict | None = None, *, clock: Clock | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    app.url_map.converters["id"] = IdConverter
    instance = Path(app.instance_path)
    app.config.update(config_module.default_config(instance))
    app.config.from_pyfile("config.py", silent=True)
    app.config.update(config_module.from_environment())
    app.config.update(overrides or {})
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = config_module.secret_key(instance)
    if app.config["DATABASE_URL"].startswith("sqlite:///"):
        Path(app.config["DATABASE_URL"][len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)

    passwords.configure(app.config)
    identity.configure(app.config.get("NATIONAL_ID_KEY") or app.config["SECRET_KEY"])
    db = Database(app.config["DATABASE_URL"])
    the_clock = clock or Clock()
    from handlers import REGISTRY

    engine = build_engine(db, the_clock, app.config.get("HANDLERS", REGISTRY),
                          specs=app.config.get("SPEC_CACHE"), limits=config_module.run_limits(app.config))
    access_log = AccessLog(db, flush_seconds=app.config["ACCESS_LOG_FLUSH_SECONDS"])
    app.extensions["ansvarsgruppe"] = Services(db=db, clock=the_clock, engine=engine, access_log=access_log)

    if int(app.config.get("TRUSTED_PROXIES") or 0) > 0:  # the client address from X-Forwarded-For
        hops = int(app.config["TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)

    app.session_interface = CookieSessions()
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    app.teardown_appcontext(close_session)

    from webapp import errors, static_files, templating
    from webapp.auth.views import bp as auth_bp, load_user
    from webapp.tasks.views import bp as tasks_bp
    from webapp.cases.views import bp as cases_bp
    from webapp.supervision.views import bp as supervision_bp
    from webapp.admin.views import bp as admin_bp
    from webapp.meetings.views import bp as meetings_bp
    from webapp.transitions.views import bp as transitions_bp
    from webapp.closing.views import bp as closing_bp
    from webapp.deviations.views import bp as deviations_bp
    from webapp.register.views import bp as register_bp
    from webapp.workbench.views import bp as workbench_bp
    from webapp.profiles.views import bp as profiles_bp
    from webapp.workbench.testrun_views import bp as testrun_bp
    from webapp.supervision.process_views import bp as supervision_processes_bp
    from webapp.supervision.action_views import bp as supervision_actions_bp
    from webapp.plans.views import bp as plans_bp
    from webapp.auth import oidc
    from webapp.auth.oidc_views import bp as oidc_bp
    from webapp.auth.access import keep_citizens_home
    from webapp.portal.views import bp as portal_bp

    oidc.init_app(app)
    app.before_request(load_user)
    app.before_request(keep_citizens_home)
    app.before_request(errors.refuse_nul_bytes)
    app.register_blueprint(auth_bp)
    app.register_blueprint(tasks_bp)
    app.register_blueprint(cases_bp)
    app.register_blueprint(supervision_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(meetings_bp)
    for blueprint in (transitions_bp, closing_bp, deviations_bp, register_bp, workbench_bp, testrun_bp, profiles_bp,
                      supervision_processes_bp, supervision_actions_bp, plans_bp, oidc_bp, portal_bp):
        app.register_blueprint(blueprint)
    errors.register(app)
    templating.register(app)
    static_files.register(app)

    # logging out (a form) may end at an OpenID provider's logout endpoint: its origin is allowed
    form_targets = " ".join(["'self'", *oidc.provider_origins(app)])

    # every response's headers, unless a view set its own; built once (on every response, one
    # ``setdefault`` each scanned the headers again)
    always = [
        ("Content-Security-Policy",
         "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
         f"font-src 'self' data:; frame-ancestors 'none'; form-action {form_targets}; base-uri 'self'"),
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        ("Referrer-Policy", "same-origin"),
        ("Permissions-Policy", PERMISSIONS_POLICY),
    ]

    @app.after_request
    def security_headers(response):
        headers = response.headers
        present = {name.lower() for name in headers.keys()}
        wanted = list(always)
        if request.is_secure or app.config.get("HSTS_ALWAYS"):  # browsers ignore HSTS over http
            wanted.append(("Strict-Transport-Security", f"max-age={int(app.config['HSTS_MAX_AGE'])}"))
        if request.endpoint != "static":
            wanted.append(("Cache-Control", "no-store"))
        headers.extend([(name, value) for name, value in wanted if name.lower() not in present])
        return response

    return app


def freeze_startup_objects() -> None:
    """Put what starting made (models, parsed diagrams, templates, translations) beyond the
    garbage collector's full passes, which then walk only what requests make: at 100,000 groups a
    full pass over a started app took about 110 ms and made the cockpit's slowest requests
    (bench/scale_bench.py). For a long-running server or worker, called once after it started."""
    gc.collect()
    gc.freeze()
