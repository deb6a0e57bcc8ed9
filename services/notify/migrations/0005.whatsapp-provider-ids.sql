-- depends: 0002.deliveries 0004.whatsapp
-- The status webhook finds a WhatsApp delivery by the message id the Cloud API gave it
-- (three or more callbacks per message): an index, not a scan of every delivery.

CREATE INDEX deliveries_by_whatsapp_message ON deliveries (provider_id)
    WHERE channel = 'whatsapp';
