from lbsup.intake.mail_html import html_to_text, sanitize_html


def test_it_marks_blockquotes_as_quoted_lines():
    text = html_to_text("<p>Yes, thanks.</p><blockquote><p>Can you confirm?</p><p>Sam</p></blockquote>")
    assert text == "Yes, thanks.\n\n> Can you confirm?\n>\n> Sam"


def test_it_neutralises_script_words_left_in_visible_text():
    html = sanitize_html("<p>type javascript:alert(1) and x onclick=y</p>")
    assert "javascript:" not in html and " onclick=" not in html
    assert html_to_text(html) == "type javascript:alert(1) and x onclick=y"


def test_it_keeps_cid_images_and_drops_data_urls():
    html = sanitize_html('<img src="cid:logo@x.example"><img src="data:image/png;base64,AAAA">')
    assert html == '<img src="cid:logo@x.example"><img>'
