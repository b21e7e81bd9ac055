# Amounts become MoneyField: unchanged NUMERIC on PostgreSQL, exact text on SQLite, where
# every stored value is rewritten in its canonical text.

import wallet.fields
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('remittance', '0002_alter_remittance_remitted_at'),
    ]

    operations = [
        migrations.AlterField(
            model_name='remittance',
            name='amount',
            field=wallet.fields.MoneyField(decimal_places=18, max_digits=38),
        ),
        migrations.RunPython(
            wallet.fields.store_amounts_as_text(
                ('remittance', 'remittance', 'amount'),
            ),
            migrations.RunPython.noop,
        ),
    ]
