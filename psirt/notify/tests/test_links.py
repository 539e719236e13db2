import re

from django.test import Client


def test_every_public_page_links_to_the_subscription_form(client: Client, db: None) -> None:
    for path in ("/en/", "/zh-hans/updates/", "/en/policy/"):
        html = client.get(path).content.decode()
        assert re.search(r'href="/(en|zh-hans)/subscribe/"', html), path
