# Remittances kept the client's clientMsgId in Remittance.request_id; each becomes a key row of
# wallet.IdempotencyKey (digest unknown), so a retry of a remittance made before this migration
# still answers with that remittance.

from django.db import migrations


def keys_of_earlier_remittances(apps, schema_editor):
    Remittance = apps.get_model("remittance", "Remittance")
    Key = apps.get_model("wallet", "IdempotencyKey")
    rows = (Remittance.objects.filter(request_id__isnull=False)
            .values_list("payer_id", "request_id", "pk", "remitted_at"))
    Key.objects.bulk_create(
        (Key(user_id=user_id, method="remittance.remit", key=key, object_id=pk, created_at=at)
         for user_id, key, pk, at in rows.iterator()), batch_size=1000, ignore_conflicts=True)


class Migration(migrations.Migration):

    dependencies = [
        ('remittance', '0003_exact_amounts'),
        ('wallet', '0008_idempotency_key'),
    ]

    operations = [
        migrations.RunPython(keys_of_earlier_remittances, migrations.RunPython.noop),
    ]
