"""The Open311 reads, filters, filing and privacy on PostgreSQL (the other tests
run on SQLite)."""

from __future__ import annotations

import pytest
import test_open311_api as api
import test_open311_privacy as privacy

pytestmark = pytest.mark.postgres


def test_reads_and_filters(pg_world):
    api.test_requests_show_the_public_messages_with_the_specification_fields(pg_world)
    api.test_filters_status_service_code_and_ids(pg_world)
    api.test_date_filters_and_the_90_day_span(pg_world)
    api.test_services_are_the_active_subcategories(pg_world)


def test_filing_tokens_and_privacy(pg_world):
    api.test_post_requests_files_a_message_as_the_keys_account(pg_world)
    privacy.test_no_hidden_message_and_no_personal_data_in_any_answer(pg_world)
    privacy.test_another_clients_unpublished_request_stays_hidden(pg_world)


@pytest.mark.parametrize("query", ["start_date=9999-12-31", "end_date=2026-13-01", "status=x"])
def test_bad_queries(pg_world, query):
    api.test_bad_queries_are_errors_in_the_format_never_500(pg_world, query)
