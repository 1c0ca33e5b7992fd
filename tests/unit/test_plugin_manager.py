"""The plugin manager factory, and every core hook called through a real manager.

Each hook is called with exactly the arguments of its spec (warnings are errors
here, so pluggy's "argument missing from the call" warning fails the test) and
implemented by a small in-test plugin whose parameter names pluggy checks
against the spec at registration.
"""

from __future__ import annotations

import io
import json
import logging
from datetime import UTC, datetime
from pathlib import Path

import pluggy
import pytest
import structlog

from aspirasi_core import __version__, hookimpl
from aspirasi_core.domain.errors import Invalid, NotAllowed, Throttled
from aspirasi_core.domain.events import MessageRated, MessageSubmitted, StatusChanged
from aspirasi_core.domain.model import Account, Action, Actor, Message, Role, Status
from aspirasi_core.domain.policy import MessageScope, PermissionDecl, PolicyError, RoleDecl
from aspirasi_core.hookspecs import hookspec
from aspirasi_core.logging import configure_logging
from aspirasi_core.plugin_types import CategoryDecl, OutboxMessage, SubmissionDraft, UseCaseCall
from aspirasi_core.plugins import (
    CORE_PLUGIN_NAME,
    PluginLoadError,
    collect_category_decls,
    collect_policy,
    create_plugin_manager,
    list_plugins,
    migration_locations,
)
from aspirasi_core.services.ports import OutboxItem
from aspirasi_core.settings import Settings

pytestmark = pytest.mark.filterwarnings("error")

BUNDLED = {"land_issue", "evaluator", "notify_email", "rate_limit", "open311", "storage_s3"}
T0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
SECRET = "tok-3f9a-very-secret"


def names(pm: pluggy.PluginManager) -> list[str]:
    return [info.name for info in list_plugins(pm)]


def bare(*plugins: object, **settings) -> pluggy.PluginManager:
    """A manager with the core's defaults and ``plugins``, no installed plugins."""
    return create_plugin_manager(
        Settings(**settings), load_entry_points=False, extra_plugins=plugins
    )


def message(**fields) -> Message:
    base = dict(
        id=1,
        ticket="AE-0001",
        author_id=7,
        subject="Jalan rusak",
        body="…",
        status=Status.FORWARDED,
        confidential=False,
        anonymous=False,
        created_at=T0,
        updated_at=T0,
        category_id=2,
        subcategory_id=5,
        agency_id=3,
    )
    base.update(fields)
    return Message(**base)


def outbox_item(topic: str, **payload) -> OutboxItem:
    return OutboxItem(
        id=41,
        topic=topic,
        payload=payload,
        attempts=0,
        status="sending",
        created_at=T0,
        available_at=T0,
    )


def status_changed() -> StatusChanged:
    return StatusChanged(
        message_id=1,
        ticket="AE-0001",
        author_id=7,
        action=Action.START,
        from_status=Status.FORWARDED,
        to_status=Status.IN_PROGRESS,
        actor_id=21,
        agency_id=3,
        previous_agency_id=None,
        note="",
        at=T0,
    )


class FakeDirectory:
    def category_id(self, code: str) -> int | None:
        return {"aspirasi": 1, "aduan": 2}.get(code)

    def subcategory_id(self, category_code: str, code: str) -> int | None:
        return 5 if (category_code, code) == ("aduan", "jalan") else None

    def agency_id(self, code: str) -> int | None:
        return {"dpupr": 3}.get(code)


class FakeLookup:
    def __init__(self, accounts: list[Account]) -> None:
        self.accounts = {a.id: a for a in accounts}

    def account(self, account_id: int) -> Account | None:
        return self.accounts.get(account_id)

    def with_role(self, role: str) -> list[Account]:
        return [a for a in self.accounts.values() if a.role == role]

    def operators_of(self, agency_id: int) -> list[Account]:
        return [a for a in self.with_role(Role.OPERATOR) if a.agency_id == agency_id]

    def with_permission(self, permission: str) -> list[Account]:
        return [a for a in self.accounts.values() if permission in a.permissions]


def account(id: int, role: str, agency_id: int | None = None) -> Account:
    return Account(
        id=id,
        email=f"a{id}@example.go.id",
        username=f"a{id}",
        full_name=f"A {id}",
        role=role,
        agency_id=agency_id,
        permissions=frozenset(),
        is_active=True,
        email_verified_at=T0,
        language="id",
        created_at=T0,
        password_hash="x",
    )


# --------------------------------------------------------------------------- loading


def test_installed_plugins_load_from_their_entry_points():
    pm = create_plugin_manager(Settings())
    infos = {info.name: info for info in list_plugins(pm)}
    assert set(infos) == {CORE_PLUGIN_NAME} | BUNDLED
    assert names(pm)[0] == CORE_PLUGIN_NAME
    core = infos[CORE_PLUGIN_NAME]
    assert (core.version, core.distribution, core.module) == (
        __version__,
        "aspirasi-core",
        "aspirasi_core.default_plugin",
    )
    assert core.hooks == ("aspirasi_deliver_outbox_item",)
    assert infos["land_issue"].version == "0.1.0"
    assert infos["land_issue"].distribution == "aspirasi-land-issue"


def test_the_allow_list_loads_only_the_named_plugins():
    pm = create_plugin_manager(Settings(plugins=("evaluator", "rate_limit")))
    assert names(pm) == [CORE_PLUGIN_NAME, "evaluator", "rate_limit"]


def test_the_block_list_keeps_plugins_out():
    pm = create_plugin_manager(Settings(disabled_plugins=("land_issue", "notify_email")))
    assert set(names(pm)) == {CORE_PLUGIN_NAME, "evaluator", "rate_limit", "open311", "storage_s3"}
    assert pm.is_blocked("land_issue")


def test_the_block_list_wins_over_the_allow_list():
    pm = create_plugin_manager(
        Settings(plugins=("evaluator", "land_issue"), disabled_plugins=("land_issue",))
    )
    assert names(pm) == [CORE_PLUGIN_NAME, "evaluator"]


def test_lists_come_from_the_environment():
    settings = Settings.from_env(
        {"ASPIRASI_PLUGINS": "evaluator, land_issue", "ASPIRASI_DISABLED_PLUGINS": "evaluator"}
    )
    assert names(create_plugin_manager(settings)) == [CORE_PLUGIN_NAME, "land_issue"]


def test_an_allow_list_naming_a_missing_plugin_refuses_to_start():
    with pytest.raises(PluginLoadError, match="not installed: evalutor"):
        create_plugin_manager(Settings(plugins=("evalutor",)))


def test_without_entry_points_only_the_core_and_extra_plugins_are_registered():
    class Extra:
        @hookimpl
        def aspirasi_register_roles(self):
            return []

    pm = bare(Extra())
    assert len(names(pm)) == 2
    extra = next(info for info in list_plugins(pm) if info.name != CORE_PLUGIN_NAME)
    assert extra.version is None
    assert extra.distribution is None
    assert extra.module.endswith("Extra")
    assert extra.name == extra.module  # named after its class, so it can be blocked by name
    assert extra.hooks == ("aspirasi_register_roles",)


def test_an_extra_plugin_already_loaded_from_its_entry_point_is_registered_once():
    import aspirasi_evaluator

    pm = create_plugin_manager(Settings(plugins=("evaluator",)), extra_plugins=[aspirasi_evaluator])
    assert names(pm) == [CORE_PLUGIN_NAME, "evaluator"]


def test_blocking_the_core_name_turns_off_the_core_defaults():
    pm = bare(disabled_plugins=(CORE_PLUGIN_NAME,))
    assert names(pm) == []
    assert pm.hook.aspirasi_deliver_outbox_item(item=outbox_item("log")) is None


def test_each_call_builds_a_new_manager():
    settings = Settings(plugins=("evaluator",))
    assert create_plugin_manager(settings) is not create_plugin_manager(settings)


def test_check_pending_rejects_a_misspelt_hook():
    class Misspelt:
        @hookimpl
        def aspirasi_configur(self, settings):
            pass

    with pytest.raises(pluggy.PluginValidationError, match="aspirasi_configur"):
        bare(Misspelt())


def test_an_implementation_with_an_unknown_argument_is_rejected():
    class WrongArgument:
        @hookimpl
        def aspirasi_visibility_scopes(self, actor, account):
            return []

    with pytest.raises(pluggy.PluginValidationError, match="account"):
        bare(WrongArgument())


# --------------------------------------------------------------------------- aspirasi_configure


class ConfigRecorder:
    def __init__(self) -> None:
        self.seen: list[Settings] = []

    @hookimpl
    def aspirasi_configure(self, settings: Settings) -> None:
        self.seen.append(settings)


def test_aspirasi_configure_reaches_every_plugin_once():
    recorder = ConfigRecorder()
    settings = Settings(app_name="ASPIRASI UJI")
    create_plugin_manager(settings, load_entry_points=False, extra_plugins=[recorder])
    assert recorder.seen == [settings]


def test_aspirasi_configure_is_historic_and_reaches_a_late_plugin():
    settings = Settings(app_name="ASPIRASI UJI")
    pm = create_plugin_manager(settings, load_entry_points=False)
    late = ConfigRecorder()
    assert late.seen == []
    pm.register(late)
    assert len(late.seen) == 1
    assert late.seen[0] is settings


def test_aspirasi_configure_can_refuse_to_start():
    class Picky:
        @hookimpl
        def aspirasi_configure(self, settings):
            raise ValueError("ASPIRASI_PICKY: wrong")

    with pytest.raises(ValueError, match="ASPIRASI_PICKY"):
        bare(Picky())


def test_aspirasi_configure_cannot_be_called_directly():
    with pytest.raises(AssertionError, match="historic"):
        bare().hook.aspirasi_configure(settings=Settings())


# --------------------------------------------------------------------------- declarations


class Auditor:
    @hookimpl
    def aspirasi_register_roles(self):
        return [RoleDecl("auditor", "Auditor", staff=True)]

    @hookimpl
    def aspirasi_register_permissions(self):
        return [
            PermissionDecl("auditor.review", "Read the audit log", roles=frozenset({"auditor"}))
        ]


def test_aspirasi_register_roles_and_permissions_extend_the_policy():
    policy = collect_policy(bare(Auditor()))
    assert policy.is_staff_role("auditor")
    assert policy.allows(Actor(account_id=1, role="auditor"), "auditor.review")
    assert not policy.allows(Actor(account_id=2, role=Role.ADMIN), "auditor.review")
    assert "message.submit" in policy.permissions  # the core's table is still there


def test_duplicate_permission_names_fail_collect_policy_naming_the_plugins():
    class Copy:
        @hookimpl
        def aspirasi_register_permissions(self):
            return [PermissionDecl("auditor.review", "Another one")]

    pm = bare(Auditor(), Copy())
    with pytest.raises(PolicyError, match=r"'auditor\.review' is declared twice") as raised:
        collect_policy(pm)
    declared_by = str(raised.value).split("declared by:")[1]
    for plugin in pm.get_plugins():
        if isinstance(plugin, Auditor | Copy):
            assert pm.get_name(plugin) in declared_by


def test_a_plugin_cannot_redeclare_a_core_permission_or_role():
    class Clash:
        @hookimpl
        def aspirasi_register_permissions(self):
            return [PermissionDecl("message.submit", "Mine now")]

    class RoleClash:
        @hookimpl
        def aspirasi_register_roles(self):
            return [RoleDecl(Role.ADMIN, "Admin again")]

    with pytest.raises(PolicyError, match=r"message\.submit"):
        collect_policy(bare(Clash()))
    with pytest.raises(PolicyError, match="admin"):
        collect_policy(bare(RoleClash()))


def test_a_permission_for_an_unknown_role_fails():
    class Orphan:
        @hookimpl
        def aspirasi_register_permissions(self):
            return [PermissionDecl("x.y", "…", roles=frozenset({"ghost"}))]

    with pytest.raises(PolicyError, match="ghost"):
        collect_policy(bare(Orphan()))


def test_declarations_of_the_wrong_type_fail_clearly():
    class Sloppy:
        @hookimpl
        def aspirasi_register_permissions(self):
            return ["auditor.review"]

    with pytest.raises(TypeError, match="PermissionDecl"):
        collect_policy(bare(Sloppy()))


class Roads:
    @hookimpl
    def aspirasi_register_categories(self):
        return [CategoryDecl("aduan", "Aduan", "jalan", "Jalan Rusak")]


def test_aspirasi_register_categories_are_collected_without_duplicates():
    class Lamps:
        @hookimpl
        def aspirasi_register_categories(self):
            return [
                CategoryDecl("aduan", "Aduan", "jalan", "Jalan Rusak"),
                CategoryDecl("aspirasi", "Aspirasi", "lampu", "Lampu Jalan"),
            ]

    assert collect_category_decls(bare(Roads(), Lamps())) == [
        CategoryDecl("aduan", "Aduan", "jalan", "Jalan Rusak"),
        CategoryDecl("aspirasi", "Aspirasi", "lampu", "Lampu Jalan"),
    ]


def test_aspirasi_register_categories_with_two_names_for_one_code_fail():
    class OtherRoads:
        @hookimpl
        def aspirasi_register_categories(self):
            return [CategoryDecl("aduan", "Aduan", "jalan", "Jalan Berlubang")]

    with pytest.raises(ValueError, match="aduan/jalan"):
        collect_category_decls(bare(Roads(), OtherRoads()))


def test_aspirasi_migration_locations_are_absolute_existing_folders(tmp_path: Path):
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()

    class One:
        @hookimpl
        def aspirasi_migration_locations(self):
            return [str(first)]

    class Two:
        @hookimpl
        def aspirasi_migration_locations(self):
            return [second, str(first)]

    class NoTables:
        @hookimpl
        def aspirasi_migration_locations(self):
            return None

    assert sorted(migration_locations(bare(One(), Two(), NoTables()))) == [str(first), str(second)]


@pytest.mark.parametrize("where", ["relative/migrations", "/nonexistent/aspirasi/migrations"])
def test_aspirasi_migration_locations_rejects_bad_paths(where):
    class Bad:
        @hookimpl
        def aspirasi_migration_locations(self):
            return [where]

    with pytest.raises(ValueError, match="migration location"):
        migration_locations(bare(Bad()))


# --------------------------------------------------------------------------- access


def test_aspirasi_visibility_scopes_are_returned_per_plugin():
    class RoadWatch:
        @hookimpl
        def aspirasi_visibility_scopes(self, actor, directory):
            if "roads.watch" not in actor.permissions:
                return None
            return [
                MessageScope(
                    name="roads",
                    category_ids=frozenset({directory.category_id("aduan")}),
                    subcategory_ids=frozenset({directory.subcategory_id("aduan", "jalan")}),
                )
            ]

    pm = bare(RoadWatch())
    watcher = Actor(
        account_id=9, role=Role.OPERATOR, agency_id=4, permissions=frozenset({"roads.watch"})
    )
    [scopes] = pm.hook.aspirasi_visibility_scopes(actor=watcher, directory=FakeDirectory())
    assert scopes == [MessageScope("roads", frozenset({2}), frozenset({5}))]
    assert scopes[0].matches(message())
    other = Actor(account_id=10, role=Role.OPERATOR, agency_id=4)
    assert pm.hook.aspirasi_visibility_scopes(actor=other, directory=FakeDirectory()) == []


def test_aspirasi_before_use_case_can_throttle():
    class Limiter:
        def __init__(self) -> None:
            self.calls: list[UseCaseCall] = []

        @hookimpl
        def aspirasi_before_use_case(self, call):
            self.calls.append(call)
            if call.name == "login" and len(self.calls) > 2:
                raise Throttled(retry_after=60)

    limiter = Limiter()
    pm = bare(limiter)
    call = UseCaseCall(name="login", client_ip="10.0.0.1", subject="budi")
    pm.hook.aspirasi_before_use_case(call=call)
    pm.hook.aspirasi_before_use_case(call=call)
    with pytest.raises(Throttled) as raised:
        pm.hook.aspirasi_before_use_case(call=call)
    assert raised.value.retry_after == 60
    assert limiter.calls == [call, call, call]
    assert "budi" not in repr(call)  # the subject (a login name) stays out of reprs


def test_aspirasi_validate_submission_can_refuse():
    class NoShouting:
        @hookimpl
        def aspirasi_validate_submission(self, actor, draft):
            if draft.subject.isupper():
                raise Invalid.field("subject", "shouting", "Please do not write in capitals.")

    pm = bare(NoShouting())
    citizen = Actor(account_id=7, role=Role.USER)
    calm = SubmissionDraft(
        "Jalan rusak", "…", confidential=False, anonymous=False, attachment_count=0
    )
    assert pm.hook.aspirasi_validate_submission(actor=citizen, draft=calm) == []
    loud = SubmissionDraft(
        "JALAN RUSAK", "…", confidential=False, anonymous=False, attachment_count=1
    )
    with pytest.raises(Invalid) as raised:
        pm.hook.aspirasi_validate_submission(actor=citizen, draft=loud)
    assert raised.value.errors[0].field == "subject"


def test_aspirasi_validate_transition_can_veto():
    class NeedsANote:
        @hookimpl
        def aspirasi_validate_transition(self, message, action, actor, to_status, note):
            if action is Action.REPLY and to_status is Status.DONE and not note:
                raise NotAllowed("A reply needs a note.", code="note_required")

    pm = bare(NeedsANote())
    operator = Actor(account_id=21, role=Role.OPERATOR, agency_id=3)
    ongoing = message(status=Status.IN_PROGRESS)
    kwargs = dict(message=ongoing, action=Action.REPLY, actor=operator, to_status=Status.DONE)
    pm.hook.aspirasi_validate_transition(**kwargs, note="Sudah diperbaiki")
    with pytest.raises(NotAllowed, match="note"):
        pm.hook.aspirasi_validate_transition(**kwargs, note="")


# --------------------------------------------------------------------------- side effects


def test_aspirasi_outbox_items_returns_side_effects_for_recipients():
    class TellOperators:
        @hookimpl
        def aspirasi_outbox_items(self, event, lookup):
            if not isinstance(event, StatusChanged) or event.agency_id is None:
                return None
            return [
                OutboxMessage("email", {"to": op.email, "ticket": event.ticket})
                for op in lookup.operators_of(event.agency_id)
            ]

    pm = bare(TellOperators())
    lookup = FakeLookup([account(21, Role.OPERATOR, 3), account(22, Role.OPERATOR, 4)])
    results = pm.hook.aspirasi_outbox_items(event=status_changed(), lookup=lookup)
    assert results == [[OutboxMessage("email", {"to": "a21@example.go.id", "ticket": "AE-0001"})]]
    rated = MessageRated(message_id=1, ticket="AE-0001", author_id=7, agency_id=3, stars=5, at=T0)
    assert pm.hook.aspirasi_outbox_items(event=rated, lookup=lookup) == []


def test_aspirasi_deliver_outbox_item_the_core_delivers_the_log_topic():
    pm = bare()
    assert pm.hook.aspirasi_deliver_outbox_item(item=outbox_item("log", text="halo")) is True
    assert pm.hook.aspirasi_deliver_outbox_item(item=outbox_item("email", to="x@y.id")) is None


def test_aspirasi_deliver_outbox_item_first_result_wins():
    class Mailer:
        def __init__(self) -> None:
            self.sent: list[int] = []

        @hookimpl
        def aspirasi_deliver_outbox_item(self, item):
            if item.topic != "email":
                return None
            self.sent.append(item.id)
            return True

    class Broken:
        @hookimpl
        def aspirasi_deliver_outbox_item(self, item):
            if item.topic == "sms":
                raise ConnectionError("gateway down")
            return None

    mailer = Mailer()
    pm = bare(mailer, Broken())
    assert pm.hook.aspirasi_deliver_outbox_item(item=outbox_item("email")) is True
    assert mailer.sent == [41]
    assert pm.hook.aspirasi_deliver_outbox_item(item=outbox_item("log")) is True
    with pytest.raises(ConnectionError):
        pm.hook.aspirasi_deliver_outbox_item(item=outbox_item("sms"))


def test_aspirasi_deliver_outbox_item_a_plugin_can_take_over_the_log_topic():
    class Quiet:
        @hookimpl(tryfirst=True)
        def aspirasi_deliver_outbox_item(self, item):
            return True if item.topic == "log" else None

    taken: list[str] = []

    class Spy(Quiet):
        @hookimpl(tryfirst=True)
        def aspirasi_deliver_outbox_item(self, item):
            taken.append(item.topic)
            return super().aspirasi_deliver_outbox_item(item)

    pm = bare(Spy())
    assert pm.hook.aspirasi_deliver_outbox_item(item=outbox_item("log")) is True
    assert taken == ["log"]


class AfterRecorder:
    def __init__(self) -> None:
        self.seen: list[tuple[str, object]] = []

    @hookimpl
    def aspirasi_after_submission(self, event):
        self.seen.append(("submission", event))

    @hookimpl
    def aspirasi_after_transition(self, event):
        self.seen.append(("transition", event))

    @hookimpl
    def aspirasi_after_event(self, event):
        self.seen.append(("event", event))


def test_aspirasi_after_submission_transition_and_event_receive_the_event():
    recorder = AfterRecorder()
    pm = bare(recorder)
    submitted = MessageSubmitted(
        message_id=1,
        ticket="AE-0001",
        author_id=7,
        subject="Jalan rusak",
        confidential=False,
        anonymous=False,
        at=T0,
    )
    rated = MessageRated(message_id=1, ticket="AE-0001", author_id=7, agency_id=3, stars=4, at=T0)
    pm.hook.aspirasi_after_submission(event=submitted)
    pm.hook.aspirasi_after_transition(event=status_changed())
    pm.hook.aspirasi_after_event(event=rated)
    assert recorder.seen == [
        ("submission", submitted),
        ("transition", status_changed()),
        ("event", rated),
    ]


# --------------------------------------------------------------------------- tracing


@pytest.fixture
def log_stream():
    """Logging configured as JSON into a buffer; the default configuration is restored after."""
    stream = io.StringIO()
    configure_logging(Settings(log_json=True, log_level="DEBUG"), stream=stream)
    yield stream
    structlog.reset_defaults()
    root = logging.getLogger()
    for handler in [h for h in root.handlers if type(h).__name__ == "_AspirasiHandler"]:
        root.removeHandler(handler)


def lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


class Tokenish:
    @hookimpl
    def aspirasi_before_use_case(self, call):
        return None


def test_tracing_logs_every_hook_call_without_argument_values(log_stream):
    plugin = Tokenish()
    pm = bare(plugin, trace_hooks=True)
    pm.hook.aspirasi_before_use_case(call=UseCaseCall(name="reset_password", subject=SECRET))
    pm.hook.aspirasi_deliver_outbox_item(item=outbox_item("email", token=SECRET))
    calls = [line for line in lines(log_stream) if line["event"] == "hook_call"]
    by_hook = {line["hook"]: line for line in calls}
    assert "aspirasi_configure" in by_hook  # the historic call at creation is traced too
    before = by_hook["aspirasi_before_use_case"]
    assert before["arguments"] == ["call"]
    assert before["plugins"] == [pm.get_name(plugin)]
    assert before["duration_ms"] >= 0
    assert before["failed"] is False
    assert by_hook["aspirasi_deliver_outbox_item"]["plugins"] == [CORE_PLUGIN_NAME]
    assert SECRET not in log_stream.getvalue()


def test_tracing_marks_failed_calls(log_stream):
    class Refuses:
        @hookimpl
        def aspirasi_before_use_case(self, call):
            raise Throttled(retry_after=5)

    pm = bare(Refuses(), trace_hooks=True)
    with pytest.raises(Throttled):
        pm.hook.aspirasi_before_use_case(call=UseCaseCall(name="login"))
    [line] = [x for x in lines(log_stream) if x.get("hook") == "aspirasi_before_use_case"]
    assert line["failed"] is True


def test_tracing_is_on_with_the_environment_variable(log_stream, monkeypatch):
    monkeypatch.setenv("ASPIRASI_TRACE_HOOKS", "1")
    bare().hook.aspirasi_register_roles()
    assert "aspirasi_register_roles" in [x.get("hook") for x in lines(log_stream)]


def test_no_tracing_by_default(log_stream, monkeypatch):
    monkeypatch.delenv("ASPIRASI_TRACE_HOOKS", raising=False)
    bare().hook.aspirasi_register_roles()
    assert [x for x in lines(log_stream) if x["event"] == "hook_call"] == []


def test_the_core_log_deliverer_redacts_the_payload(log_stream):
    pm = bare()
    item = outbox_item(
        "log", link=f"https://x.id/verify?token={SECRET}", token=SECRET, nik="6472045504910001"
    )
    assert pm.hook.aspirasi_deliver_outbox_item(item=item) is True
    [line] = [x for x in lines(log_stream) if x["event"] == "outbox_log_item"]
    assert line["item_id"] == 41
    assert line["payload"]["token"] == "[redacted]"
    assert SECRET not in log_stream.getvalue()
    assert "6472045504910001" not in log_stream.getvalue()


# --------------------------------------------------------------------------- aspirasi_addhooks


class GreetingSpecs:
    @hookspec
    def aspirasi_hello_greetings(self) -> list[str]:
        """Greetings for the hello plugin."""


class Hello:
    """A plugin that adds its own hook, the way pytest plugins use pytest_addhooks."""

    def __init__(self) -> None:
        self.pm: pluggy.PluginManager | None = None

    @hookimpl
    def aspirasi_addhooks(self, pluginmanager):
        pluginmanager.add_hookspecs(GreetingSpecs)
        self.pm = pluginmanager

    def greetings(self) -> list[list[str]]:
        assert self.pm is not None
        return self.pm.hook.aspirasi_hello_greetings()


class Greeter:
    @hookimpl(optionalhook=True)
    def aspirasi_hello_greetings(self):
        return ["Halo"]


def test_a_plugin_adds_its_own_hook_specs_and_others_implement_them():
    # Registered before or after the plugin that declares the hook: the same.
    for hello_first in (True, False):
        hello = Hello()
        bare(*((hello, Greeter()) if hello_first else (Greeter(), hello)))
        assert hello.greetings() == [["Halo"]]


def test_an_implementation_of_a_plugins_hook_loads_without_that_plugin():
    # optionalhook: check_pending() lets it through when no plugin declares the hook.
    pm = bare(Greeter())
    assert pm.get_plugin(f"{__name__}.Greeter") is not None


def test_a_misspelt_implementation_of_a_plugins_hook_is_refused():
    class Misspelt:
        @hookimpl
        def aspirasi_hello_greeting(self):
            return ["Halo"]

    with pytest.raises(pluggy.PluginValidationError):
        bare(Hello(), Misspelt())
