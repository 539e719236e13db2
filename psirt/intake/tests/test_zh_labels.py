from django.test import Client


def test_chinese_form_labels_end_in_a_full_width_colon(client: Client, db: None) -> None:
    html = client.get("/zh-hans/report/").content.decode()
    assert "您的姓名：" in html
    assert "您的姓名:" not in html
