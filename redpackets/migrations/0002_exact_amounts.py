# Amounts become MoneyField: unchanged NUMERIC on PostgreSQL, exact text on SQLite, where
# every stored value is rewritten in its canonical text.

import wallet.fields
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('redpackets', '0001_initial'),
    ]

    operations = [
        migrations.AlterField(
            model_name='redpacket',
            name='price',
            field=wallet.fields.MoneyField(decimal_places=18, help_text='one share (single and equal packets); the average for lucky ones', max_digits=38),
        ),
        migrations.AlterField(
            model_name='redpacket',
            name='refunded',
            field=wallet.fields.MoneyField(decimal_places=18, default=0, help_text='what nobody took, returned to the sender at expiry', max_digits=38),
        ),
        migrations.AlterField(
            model_name='redpacket',
            name='total_price',
            field=wallet.fields.MoneyField(decimal_places=18, max_digits=38),
        ),
        migrations.AlterField(
            model_name='redpacketshare',
            name='amount',
            field=wallet.fields.MoneyField(decimal_places=18, max_digits=38),
        ),
        migrations.RunPython(
            wallet.fields.store_amounts_as_text(
                ('redpackets', 'redpacket', 'price'),
                ('redpackets', 'redpacket', 'refunded'),
                ('redpackets', 'redpacket', 'total_price'),
                ('redpackets', 'redpacketshare', 'amount'),
            ),
            migrations.RunPython.noop,
        ),
    ]
