"""Finding 8: GraphiQL opens in a browser in development; its queries still need a token."""

import pytest

from hub.settings import Settings
from tests.conftest import make_settings

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


async def test_the_page_opens_without_a_token(hub_client):
    response = await hub_client.get("/graphql", headers=BROWSER)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "graphiql" in response.text.lower()
    assert response.headers["x-request-id"]


async def test_a_query_sent_the_way_the_page_is_fetched_still_needs_a_token(hub_client):
    response = await hub_client.get("/graphql?query={__typename}", headers=BROWSER)
    assert response.status_code == 401


async def test_the_page_queries_with_the_headers_given_in_its_headers_tab(hub_client, caseworker):
    response = await hub_client.post(
        "/graphql", json={"query": "{ __typename }"}, headers=caseworker
    )
    assert response.json() == {"data": {"__typename": "Query"}}


class TestProduction:
    @pytest.fixture
    def settings(self, database_url: str) -> Settings:
        return make_settings(database_url).model_copy(update={"env": "production"})

    async def test_there_is_no_page_in_production(self, hub_client, caseworker):
        assert (await hub_client.get("/graphql", headers=BROWSER)).status_code == 401
        response = await hub_client.get("/graphql", headers={**BROWSER, **caseworker})
        assert response.status_code in (404, 405)
        assert "graphiql" not in response.text.lower()
