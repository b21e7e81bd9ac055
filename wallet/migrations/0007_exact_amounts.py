# Amounts become MoneyField: unchanged NUMERIC on PostgreSQL, exact text on SQLite, where
# every stored value is rewritten in its canonical text.

import wallet.fields
from decimal import Decimal
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('wallet', '0006_alter_exchangeoffer_created_at'),
    ]

    operations = [
        migrations.AlterField(
            model_name='account',
            name='balance',
            field=wallet.fields.MoneyField(decimal_places=18, default=Decimal('0'), max_digits=38),
        ),
        migrations.AlterField(
            model_name='coin',
            name='min_amount',
            field=wallet.fields.MoneyField(decimal_places=18, default=Decimal('0.01'), max_digits=38),
        ),
        migrations.AlterField(
            model_name='coin',
            name='price',
            field=wallet.fields.MoneyField(decimal_places=18, default=Decimal('0'), max_digits=38),
        ),
        migrations.AlterField(
            model_name='exchangeoffer',
            name='from_amount',
            field=wallet.fields.MoneyField(decimal_places=18, max_digits=38),
        ),
        migrations.AlterField(
            model_name='exchangeoffer',
            name='to_amount',
            field=wallet.fields.MoneyField(decimal_places=18, max_digits=38),
        ),
        migrations.AlterField(
            model_name='posting',
            name='amount',
            field=wallet.fields.MoneyField(decimal_places=18, max_digits=38),
        ),
        migrations.AlterField(
            model_name='posting',
            name='balance_after',
            field=wallet.fields.MoneyField(decimal_places=18, max_digits=38),
        ),
        migrations.AlterField(
            model_name='recharge',
            name='amount',
            field=wallet.fields.MoneyField(decimal_places=18, max_digits=38),
        ),
        migrations.AlterField(
            model_name='withdrawal',
            name='amount',
            field=wallet.fields.MoneyField(decimal_places=18, max_digits=38),
        ),
        migrations.RunPython(
            wallet.fields.store_amounts_as_text(
                ('wallet', 'account', 'balance'),
                ('wallet', 'coin', 'min_amount'),
                ('wallet', 'coin', 'price'),
                ('wallet', 'exchangeoffer', 'from_amount'),
                ('wallet', 'exchangeoffer', 'to_amount'),
                ('wallet', 'posting', 'amount'),
                ('wallet', 'posting', 'balance_after'),
                ('wallet', 'recharge', 'amount'),
                ('wallet', 'withdrawal', 'amount'),
            ),
            migrations.RunPython.noop,
        ),
    ]
