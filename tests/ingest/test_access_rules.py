"""Where a document's access groups come from: the nearest .kura-acl file, else the file's POSIX group
(when enabled), else the groups given to ingest. Changing them updates the index without re-embedding."""

from __future__ import annotations

import grp
import os
import shutil

from ingest.access import AccessRules, read_acl
from retrieval import AccessScope
from tests.conftest import SAMPLES


def test_acl_files_list_groups_with_comments(tmp_path):
    acl = tmp_path / ".kura-acl"
    acl.write_text("# board only\nboard, auditors\n\nauditors  # twice\n")
    assert read_acl(acl) == ("board", "auditors")


def test_the_nearest_acl_wins_up_to_the_ingested_root(tmp_path):
    (tmp_path / "kb" / "board" / "2026").mkdir(parents=True)
    (tmp_path / ".kura-acl").write_text("outside-the-root")
    (tmp_path / "kb" / "board" / ".kura-acl").write_text("board")
    rules = AccessRules(default=("everyone",))
    root = tmp_path / "kb"
    assert rules.groups_for(root / "board" / "2026" / "minutes.md", root) == ("board",)
    assert rules.groups_for(root / "faq.md", root) == ("everyone",), "an ACL above the root does not apply"


def test_posix_group_mapping_is_opt_in(tmp_path):
    doc = tmp_path / "notes.md"
    doc.write_text("x")
    group = grp.getgrgid(os.stat(doc).st_gid).gr_name
    assert AccessRules(("everyone",), posix_groups=True).groups_for(doc, tmp_path) == (group,)
    assert AccessRules(("everyone",)).groups_for(doc, tmp_path) == ("everyone",)


def test_changing_an_acl_regroups_without_reembedding(kura, tmp_path):
    folder = tmp_path / "kb"
    shutil.copytree(SAMPLES, folder)
    kura.ingestor.ingest([folder], groups=("everyone",))
    assert kura.retriever.search("parental leave", AccessScope(("everyone",)), k=3)

    (folder / "policies" / ".kura-acl").write_text("hr\n")
    report = kura.ingestor.ingest([folder], groups=("everyone",))
    assert (report.regrouped, report.updated, report.chunks) == (5, 0, 0), "no document was parsed or embedded"
    leave = [h for h in kura.retriever.search("parental leave weeks", AccessScope(("everyone",)), k=10)
             if "policies" in h.chunk.source]
    assert leave == [], "revoked on the very next query"
    hits = kura.retriever.search("parental leave weeks", AccessScope(("hr",)), k=3)
    assert hits and all(h.chunk.groups == ("hr",) for h in hits)
    assert {r.groups for r in kura.manifest.all() if "/policies/" in r.path} == {("hr",)}

    (folder / "policies" / ".kura-acl").unlink()
    held = kura.ingestor.ingest([folder], groups=("everyone",))
    assert len(held.held) == 5, "removing an ACL never widens access silently"
    assert held.held[0]["groups"] == [] and held.held[0]["wanted"] == ["everyone"]
    assert {r.groups for r in kura.manifest.all() if "/policies/" in r.path} == {()}, "what both allow: nobody"
    assert not kura.retriever.search("parental leave weeks", AccessScope(("hr",)), k=3)
    assert kura.ingestor.ingest([folder], groups=("everyone",), allow_widening=True).regrouped == 5
    assert kura.retriever.search("parental leave", AccessScope(("everyone",)), k=3)
