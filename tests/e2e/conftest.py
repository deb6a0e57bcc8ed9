import pytest

from tests.support.api import Api

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="session")
def api(system):
    return Api(system)


@pytest.fixture(scope="session")
def admin(api):
    return {"token": api.admin_token()}


@pytest.fixture(scope="session")
def organizer(api, admin):
    return api.new_account("organizer", admin_token=admin["token"])


@pytest.fixture
def vendor(api):
    return api.new_account("vendor")


@pytest.fixture
def buyer(api):
    return api.new_account("buyer")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failing end-to-end test shows the tail of every process's log."""
    outcome = yield
    report = outcome.get_result()
    system = item.funcargs.get("system") or getattr(item.session, "_laris_system", None)
    if report.failed and system is not None:
        report.sections.append(("process logs", system.tail_logs(25)))
