"""``hub partners``: onboarding a partner from the command line."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from adapters import partner as partner_adapter
from hub.cli import main
from hub.partners import documents
from tests.partners.fake import new_key


def hub(database_url: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), env={"HUB_DATABASE_URL": database_url})
    return result.exit_code, result.output


def test_a_partner_is_onboarded_from_the_command_line(database_url, engine, tmp_path: Path):
    code, out = hub(
        database_url, "partners", "add", "jiangsu", "--region", "js", "--url", "https://hub.js/"
    )
    assert code == 0, out
    assert "partner JS" in out
    key = new_key("js-2026-01")
    public = tmp_path / "js-jwks.json"
    public.write_text(json.dumps({"keys": [key.as_dict(private=False)]}))
    private = tmp_path / "js-private.json"
    private.write_text(json.dumps(key.as_dict(private=True)))

    assert hub(database_url, "partners", "keys", "add", "JS", str(public)) == (
        0,
        "added js-2026-01 for JS\n",
    )
    code, out = hub(database_url, "partners", "keys", "add", "JS", str(private))
    assert code != 0
    assert "holds a private key" in out
    code, out = hub(database_url, "partners", "list")
    assert out == "JS\tjiangsu\tenabled\thttps://hub.js\tjs-2026-01\n"

    document = tmp_path / "few.graphql"
    document.write_text(
        "query Few($ids: [String!]!) { crossRegionStatus(idNumbers: $ids) { idNumber } }"
    )
    code, out = hub(database_url, "partners", "documents", "add", str(document), "--partner", "JS")
    assert code == 0, out
    document_id = documents.document_id(document.read_text())
    assert out == f"{document_id}\tfor JS\n"
    code, out = hub(database_url, "partners", "documents", "list")
    lines = out.splitlines()
    assert f"{document_id}\tJS\tFew" in lines
    built_in = documents.document_id(partner_adapter.CROSS_REGION_STATUS)
    assert f"{built_in}\tbuilt-in\tCrossRegionStatus" in lines

    two = tmp_path / "two.graphql"
    two.write_text("query A { sources { source } } query B { sources { source } }")
    code, out = hub(database_url, "partners", "documents", "add", str(two))
    assert code != 0
    assert "exactly one operation" in out
    code, out = hub(database_url, "partners", "documents", "add", str(document), "--partner", "ZJ")
    assert code != 0
    assert "no partner for region 'ZJ'" in out

    assert hub(database_url, "partners", "keys", "remove", "JS", "js-2026-01")[0] == 0
    assert hub(database_url, "partners", "list")[1].endswith("\tno keys\n")
    assert hub(database_url, "partners", "outbox")[1] == (
        "the outbox is empty: every message was delivered\n"
    )


def test_a_partner_moves_its_hub(database_url, engine):
    assert hub(database_url, "partners", "add", "zhejiang", "--region", "ZJ")[0] == 0
    code, out = hub(database_url, "partners", "set", "ZJ")
    assert code != 0
    assert "give at least one of --url" in out
    code, out = hub(database_url, "partners", "set", "ZJ", "--url", "ftp://hub.zj")
    assert code != 0
    assert "--url must be an http(s) URL" in out
    code, out = hub(
        database_url,
        "partners",
        "set",
        "zj",
        "--url",
        "https://hub.zj/",
        "--jwks-url",
        "https://hub.zj/.well-known/jwks.json",
    )
    assert code == 0, out
    assert out == (
        "partner ZJ: url https://hub.zj, audience ZJ, "
        "key set https://hub.zj/.well-known/jwks.json\n"
    )
    assert hub(database_url, "partners", "list")[1] == (
        "ZJ\tzhejiang\tenabled\thttps://hub.zj\tno keys\n"
    )
    code, out = hub(database_url, "partners", "set", "AH", "--audience", "AH")
    assert code != 0
    assert "no partner for region 'AH'" in out
