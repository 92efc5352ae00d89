"""Messages a diagram sends (``notify_role``'s subject and body) are library texts: extracted into
the processes catalogue when written as plain strings, and sent in the recipient's language."""
from __future__ import annotations

import io

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo

from webapp import library_texts

DIAGRAM = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" targetNamespace="x">
  <bpmn:process id="p" name="Prosess" isExecutable="true">
    <bpmn:serviceTask id="tell" name="Si fra">
      <bpmn:extensionElements>
        <spiffworkflow:serviceTaskOperator id="notify_role" resultVariable="sent">
          <spiffworkflow:parameters>
            <spiffworkflow:parameter id="role" type="str" value="&quot;koordinator&quot;"/>
            <spiffworkflow:parameter id="subject" type="str" value="&quot;Fristen er ute&quot;"/>
            <spiffworkflow:parameter id="body" type="str" value="'Se på saken: ' + reference"/>
          </spiffworkflow:parameters>
        </spiffworkflow:serviceTaskOperator>
      </bpmn:extensionElements>
    </bpmn:serviceTask>
  </bpmn:process>
</bpmn:definitions>""".encode("utf-8")


def test_a_plain_message_text_is_extracted_and_an_expression_is_not():
    texts = [message for _line, _fn, message, _comments in library_texts.extract_bpmn(io.BytesIO(DIAGRAM), [], [], {})]
    assert "Fristen er ute" in texts and "Si fra" in texts
    assert "koordinator" not in texts  # a lane name, not a text for people
    assert not any("Se på saken" in t for t in texts)


def test_a_message_is_translated_into_the_recipients_language(make_app, tmp_path):
    processes = tmp_path / "processes"
    folder = processes / "translations" / "nn" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    catalog = Catalog(locale="nn")
    catalog.add("Fristen er ute", "Fristen er ute no")
    with (folder / "processes.mo").open("wb") as f:
        write_mo(f, catalog)
    app = make_app(PROCESSES_DIR=str(processes))
    with app.app_context():
        library_texts._catalogues.cache_clear()
        assert library_texts.translate("Fristen er ute", "nn") == "Fristen er ute no"
        assert library_texts.translate("Fristen er ute", "nb") == "Fristen er ute"
        assert library_texts.translate("Ukjent tekst", "nn") == "Ukjent tekst"
    library_texts._catalogues.cache_clear()
