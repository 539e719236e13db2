"""The public pages every fresh installation starts with, in English and Simplified Chinese.

Existing pages are left alone (a lead may have edited them)."""

from django.db import migrations


def create_default_pages(apps, schema_editor):
    from psirt.pages.defaults import DEFAULT_PAGES

    Page = apps.get_model("pages", "Page")
    for slug, default in DEFAULT_PAGES.items():
        Page.objects.get_or_create(
            slug=slug,
            defaults={
                "title_en": default.title_en,
                "title_zh": default.title_zh,
                "body_en": default.body_en,
                "body_zh": default.body_zh,
            },
        )


class Migration(migrations.Migration):
    dependencies = [
        ("pages", "0002_page_updates_slug"),
    ]

    operations = [
        migrations.RunPython(create_default_pages, migrations.RunPython.noop),
    ]
