import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("signatures", "0007_trigram_name_search"),
    ]

    operations = [
        migrations.CreateModel(
            name='OutgoingEmail',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('confirm_signature', 'Confirm your signature'), ('already_signed', 'You have already signed'), ('withdraw_signature', 'Withdraw your signature'), ('signature_public', 'Your signature is public')], max_length=32, verbose_name='kind')),
                ('message_id', models.CharField(help_text='Fixed at creation: a resend carries the same one.', max_length=255, unique=True, verbose_name='Message-ID')),
                ('from_email', models.CharField(max_length=320, verbose_name='from')),
                ('to_email', models.EmailField(max_length=254, verbose_name='to')),
                ('reply_to', models.CharField(blank=True, max_length=254, verbose_name='reply-to')),
                ('subject', models.CharField(max_length=500, verbose_name='subject')),
                ('body_text', models.TextField(verbose_name='text')),
                ('body_html', models.TextField(blank=True, verbose_name='HTML')),
                ('status', models.CharField(choices=[('queued', 'Queued'), ('sending', 'Being sent'), ('sent', 'Sent'), ('failed', 'Failed')], default='queued', max_length=16, verbose_name='status')),
                ('attempts', models.PositiveIntegerField(default=0, verbose_name='attempts')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='created at')),
                ('next_attempt_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='next attempt at')),
                ('claimed_until', models.DateTimeField(blank=True, help_text='While a worker sends it; after this another worker may take it over.', null=True, verbose_name='claimed until')),
                ('last_attempt_at', models.DateTimeField(blank=True, null=True, verbose_name='last attempt at')),
                ('sent_at', models.DateTimeField(blank=True, null=True, verbose_name='sent at')),
                ('last_error', models.TextField(blank=True, verbose_name='last error')),
                ('task_id', models.CharField(blank=True, help_text='The last task enqueued for it.', max_length=64, verbose_name='task id')),
                ('signature', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='outgoing_emails', to='signatures.signature', verbose_name='signature')),
            ],
            options={
                'verbose_name': 'outgoing email',
                'verbose_name_plural': 'outgoing emails',
                'ordering': ['-created_at'],
                'indexes': [models.Index(fields=['status', 'next_attempt_at'], name='outgoing_email_due_idx'), models.Index(fields=['signature', 'kind', 'created_at'], name='outgoing_email_signature_idx')],
                'constraints': [models.CheckConstraint(condition=models.Q(('status__in', ['queued', 'sending', 'sent', 'failed'])), name='outgoing_email_status_valid'), models.CheckConstraint(condition=models.Q(models.Q(('status', 'sent'), _negated=True), ('sent_at__isnull', False), _connector='OR'), name='sent_email_has_sent_at')],
            },
        ),
    ]
