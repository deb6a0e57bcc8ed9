"""Each person's inbox (what the system told them: orders, verification, booth decisions),
the channels they want it on, the webhooks vendors register, and the dead letters admins see."""
from flask_smorest import Blueprint

from services.gateway.routes import route
from services.notify import contract

blp = Blueprint("notifications", __name__, url_prefix="/api/v1",
                description="The caller's own notifications, in their language.")

route(blp, "GET", "/notifications", "notify.list_notifications", roles=(),
      query=contract.NotificationListQuery, response=contract.NotificationPage,
      description="The caller's inbox, newest first, with the count of unread ones.")
route(blp, "POST", "/notifications/<notification_id>/read", "notify.mark_read", roles=(),
      response=contract.Notification,
      description="Marks it read (again: no change); 404 for a notification not the "
                  "caller's.")
route(blp, "GET", "/notifications/preferences", "notify.get_preferences", roles=(),
      response=contract.Preferences,
      description="The caller's channels per kind of notification, and quiet hours (WIB).")
route(blp, "PUT", "/notifications/preferences", "notify.put_preferences", roles=(),
      body=contract.PreferencesUpdate, response=contract.Preferences,
      description="Replaces them whole. The inbox is always on; WhatsApp waits out quiet "
                  "hours, e-mail and webhooks do not.")

route(blp, "GET", "/notifications/whatsapp", "notify.get_whatsapp", roles=(),
      response=contract.WhatsAppNumber,
      description="The number the caller's WhatsApp messages go to; 404 when none.")
route(blp, "PUT", "/notifications/whatsapp", "notify.put_whatsapp", roles=(),
      body=contract.WhatsAppOptIn, response=contract.WhatsAppNumber,
      description="Opts in with an Indonesian mobile number (0812-3456-7890, +62 812..., "
                  "62812... are all kept as 6281234567890); 422 naming the problem "
                  "otherwise. Messages are the templates of docs/whatsapp.md.")
route(blp, "DELETE", "/notifications/whatsapp", "notify.delete_whatsapp", roles=(),
      response=contract.WhatsAppNumber,
      description="Opts out; what was still to be sent there is cancelled. 404 when no "
                  "number was given.")

route(blp, "POST", "/webhooks", "notify.create_webhook", roles=("vendor",),
      body=contract.WebhookCreate, response=contract.WebhookCreated, status=201,
      description="Registers a URL for the caller's notifications of the given kinds, "
                  "signed as Standard Webhooks sign (docs/notifications.md). The secret "
                  "is shown in this answer only.")
route(blp, "GET", "/webhooks", "notify.list_webhooks", roles=("vendor",),
      query=contract.WebhookListQuery, response=contract.WebhookPage,
      description="The caller's webhooks, newest first (without their secrets).")
route(blp, "GET", "/webhooks/<webhook_id>", "notify.get_webhook", roles=("vendor",),
      response=contract.Webhook, description="One of the caller's webhooks; 404 for "
                                             "another's.")
route(blp, "DELETE", "/webhooks/<webhook_id>", "notify.delete_webhook", roles=("vendor",),
      response=contract.Webhook,
      description="Removes it; what was still to be sent to it is cancelled.")

route(blp, "GET", "/deliveries", "notify.list_deliveries", roles=("admin",),
      query=contract.DeliveryListQuery, response=contract.DeliveryPage,
      description="Outbound deliveries, newest first; ?status=failed lists the dead letters "
                  "with their reason and tries.")
route(blp, "POST", "/deliveries/<delivery_id>/retry", "notify.retry_delivery",
      roles=("admin",), response=contract.Delivery,
      description="Puts a failed delivery back in the queue with all its tries; 409 for one "
                  "that is not failed.")
