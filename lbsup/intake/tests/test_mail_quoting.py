import pytest

from lbsup.intake.mail_quoting import split_reply


@pytest.mark.parametrize(
    "attribution",
    [
        "El lun, 3 mar 2025 a las 10:00, Ana Ruiz (<ana@shop.example>) escribió:",
        "Am Mo., 3. März 2025 um 10:00 Uhr schrieb Ana Ruiz <ana@shop.example>:",
        "Le lun. 3 mars 2025 à 10:00, Ana Ruiz <ana@shop.example> a écrit :",
        "Il giorno lun 3 mar 2025 alle ore 10:00 Ana Ruiz <ana@shop.example> ha scritto:",
        "On Mon, Mar 3, 2025 at 10:00 AM Ana Ruiz <ana@shop.example> wrote:",
    ],
)
def test_it_recognises_reply_attributions_in_several_languages(attribution):
    split = split_reply(f"Gracias, danke, merci.\n\n{attribution}\n> old text\n")
    assert split.new_text == "Gracias, danke, merci."
    assert split.quoted_text == f"{attribution}\n> old text"


def test_it_cuts_at_an_original_message_separator():
    split = split_reply("New answer.\n\n-----Original Message-----\nFrom: a@b.example\nSent: today\n\nold")
    assert split.new_text == "New answer."
    assert split.quoted_text.startswith("-----Original Message-----")


def test_it_recognises_a_german_outlook_header_block():
    split = split_reply("Neue Zeilen.\n\nVon: Support <help@shop.example>\nGesendet: Montag, 3. März 2025\nAn: Ana\n\nalt")
    assert split.new_text == "Neue Zeilen."
    assert split.quoted_text.startswith("Von: Support")


def test_it_keeps_answers_written_between_quoted_lines():
    split = split_reply("> Which plan do you use?\nPremium.\n> Since when?\nSince January.\n")
    assert split.new_text == "Premium.\nSince January."
    assert split.quoted_text == "> Which plan do you use?\n> Since when?"


def test_it_separates_a_signature_after_the_dash_dash_line():
    split = split_reply("Please call me back.\n\n-- \nAna Ruiz\nShop Example GmbH\n+49 30 1234567")
    assert split.new_text == "Please call me back."
    assert split.signature == "Ana Ruiz\nShop Example GmbH\n+49 30 1234567"


def test_it_does_not_treat_a_sentence_mentioning_from_as_a_quote_header():
    text = "From: my side everything works.\nCould you check the server?"
    assert split_reply(text).new_text == text
