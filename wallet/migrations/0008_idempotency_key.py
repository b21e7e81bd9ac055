# The keys of money-moving requests (clientMsgId). Exchange offers already kept theirs in
# ExchangeOffer.request_id: each becomes a key row (digest unknown), so a retry of an offer
# made before this migration still answers with that offer.

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


def keys_of_earlier_offers(apps, schema_editor):
    Offer = apps.get_model("wallet", "ExchangeOffer")
    Key = apps.get_model("wallet", "IdempotencyKey")
    rows = Offer.objects.filter(request_id__isnull=False).values_list("from_user_id", "request_id", "pk", "created_at")
    Key.objects.bulk_create(
        (Key(user_id=user_id, method="exchange.publish", key=key, object_id=pk, created_at=at)
         for user_id, key, pk, at in rows.iterator()), batch_size=1000, ignore_conflicts=True)


class Migration(migrations.Migration):

    dependencies = [
        ('wallet', '0007_exact_amounts'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='IdempotencyKey',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('method', models.CharField(help_text='the native method, e.g. redpacket.create', max_length=32)),
                ('key', models.CharField(max_length=64)),
                ('digest', models.CharField(blank=True, default='', help_text="SHA-256 of the first call's parameters; empty: unknown (older rows)", max_length=64)),
                ('object_id', models.PositiveBigIntegerField(help_text='what the first call made')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('user', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('user', 'method', 'key'), name='idempotency_one_per_key')],
            },
        ),
        migrations.RunPython(keys_of_earlier_offers, migrations.RunPython.noop),
    ]
