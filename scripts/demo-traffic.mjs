// The demo workspace's sample inbox: eight conversations of a small
// furniture shop on every channel, sent through the real signed webhook
// paths (and the widget's visitor API), with agent replies, a private note,
// assignments, labels and every status. Called once by scripts/demo.mjs.
// Every step is idempotent (platform message ids, client ids).
import {
  echoPayload, messagingPayload, postApiChannel, postMeta, postTelegram, readPayload,
  telegramText, whatsappPayload, widgetVisitor,
} from "./platforms.mjs";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function seedDemoTraffic({ base, call, token, agentId, inboxes }) {
  const inbox = (channel) => {
    const i = inboxes.find((x) => x.channel === channel);
    if (!i) throw new Error(`the demo has no ${channel} inbox`);
    return i;
  };
  const api = (method, path, body) => call(method, path, body, token);
  const messenger = inbox("messenger");
  const instagram = inbox("instagram");
  const whatsapp = inbox("whatsapp");
  const telegram = inbox("telegram");
  const apiChannel = inbox("api");
  const widget = inbox("widget");
  const meta = (i, payload) => postMeta(base, i.channel, i.id, i.secrets.app_secret, payload);
  const pageId = messenger.secrets.page_id;
  const igId = instagram.secrets.account_id;
  const phoneId = whatsapp.secrets.phone_number_id;

  // The conversation of a contact, once the workspace index has it.
  async function conversationOf(externalId) {
    for (let i = 0; i < 100; i++) {
      const { conversations } = await api("GET", "/api/conversations?status=all&limit=100");
      const c = conversations.find((c) => c.contact?.external_id === externalId);
      if (c) return c.id;
      await sleep(100);
    }
    throw new Error(`the demo conversation with ${externalId} never reached the list`);
  }
  const reply = (cv, text, clientId) => api("POST", `/api/conversations/${cv}/messages`, { text, client_id: clientId });
  const note = (cv, text, clientId) => api("POST", `/api/conversations/${cv}/messages`, { kind: "note", text, client_id: clientId });
  const patch = (cv, body) => api("PATCH", `/api/conversations/${cv}`, body);
  const contact = (cv, body) => api("PATCH", `/api/conversations/${cv}/contact`, body);

  // 1. Messenger: a shipping question, answered from Meta's own Page
  //    inbox (an echo), read by the customer, thanked, resolved.
  await meta(messenger, messagingPayload("page", pageId, [
    { from: "demo-psid-maya", mid: "m_demo_maya_1", text: "Hi! I ordered the walnut desk last week, any news on shipping?" },
    { from: "demo-psid-maya", mid: "m_demo_maya_2", text: "Order #48213" },
  ]));
  await meta(messenger, echoPayload("page", pageId, "demo-psid-maya", "m_demo_maya_echo",
    "Hi Maya, it left our warehouse this morning. Tracking: 1Z999AA10123456784"));
  await meta(messenger, readPayload("page", pageId, "demo-psid-maya", Date.now()));
  await meta(messenger, messagingPayload("page", pageId, [
    { from: "demo-psid-maya", mid: "m_demo_maya_3", text: "Perfect, thank you!" },
  ]));
  const maya = await conversationOf("demo-psid-maya");
  await contact(maya, { name: "Maya Chen" });
  await patch(maya, { labels: ["shipping"], status: "resolved" });

  // 2. Instagram: a new customer, unassigned and unread.
  await meta(instagram, messagingPayload("instagram", igId, [
    { from: "demo-igsid-jonas", mid: "m_demo_jonas_1", text: "Do you ship to Canada?" },
    { from: "demo-igsid-jonas", mid: "m_demo_jonas_2", text: "And is the oak bookshelf back in stock? 😍" },
  ]));
  const jonas = await conversationOf("demo-igsid-jonas");
  await contact(jonas, { name: "Jonas Berg" });

  // 3. WhatsApp: an address change, assigned to the demo agent, a private
  //    note, waiting on the warehouse (pending).
  await meta(whatsapp, whatsappPayload(phoneId, [
    { from: "4915112345678", name: "Lukas Weber", id: "wamid.demo_lukas_1", text: "Hallo! Can I still change the delivery address for order #48190?" },
  ]));
  const lukas = await conversationOf("4915112345678");
  await patch(lukas, { assignee: agentId, labels: ["shipping"] });
  await note(lukas, "Address changes are fine until it ships; asked the warehouse to hold it.", "demo-note-lukas");
  await patch(lukas, { status: "pending" });

  // 4. WhatsApp: a missing page in the assembly instructions, open.
  await meta(whatsapp, whatsappPayload(phoneId, [
    { from: "5511987654321", name: "Ana Souza", id: "wamid.demo_ana_1", text: "The assembly instructions for the bed frame are missing step 7" },
    { from: "5511987654321", name: "Ana Souza", id: "wamid.demo_ana_2", text: "Is there a PDF somewhere?" },
  ]));

  // 5. Telegram: a wholesale enquiry, snoozed until tomorrow.
  const dmitri = { id: 700100200, first_name: "Dmitri", last_name: "Volkov", username: "dvolkov", language_code: "en" };
  await postTelegram(base, telegram.id, telegram.secrets.secret_token,
    telegramText(910000001, dmitri, "Hello, is there a discount if we order 12 office chairs?"));
  const dmitriCv = await conversationOf(String(dmitri.id));
  await patch(dmitriCv, { labels: ["wholesale"], status: "snoozed", snoozed_until: Date.now() + 20 * 3600_000 });

  // 6. The API channel: the shop's checkout reports a customer's message,
  //    assigned to the demo agent.
  await postApiChannel(base, apiChannel.id, apiChannel.secrets.secret, {
    id: "checkout-demo-1042",
    contact: { id: "customer-1042", name: "Priya Raman", email: "priya@example.com", phone: "+447700900123" },
    text: "My card was declined at checkout, but I can see two pending charges. Can you check?",
  });
  const priya = await conversationOf("customer-1042");
  await patch(priya, { assignee: agentId, labels: ["billing"] });

  // 7. The website widget: a signed-in customer asks, the agent answers
  //    (delivered live to the visitor), the customer is happy.
  const sam = await widgetVisitor(base, widget.id, widget.secrets.identity_secret,
    { id: "shop-user-3307", name: "Sam Okafor", email: "sam@example.com" });
  await sam.write("Hi, does the standing desk come with a warranty?", "demo-sam-1");
  await reply(sam.conversation_id, "Yes: 5 years on the frame and motor, 2 years on the desktop.", "demo-reply-sam-1");
  await sam.write("Great, ordering it now 🙌", "demo-sam-2");

  // 8. The website widget: opening hours, answered and resolved.
  const lea = await widgetVisitor(base, widget.id, widget.secrets.identity_secret,
    { id: "shop-user-5120", name: "Léa Martin", email: "lea@example.com" });
  await lea.write("Are you open on weekends?", "demo-lea-1");
  await reply(lea.conversation_id, "Our chat is staffed Monday to Saturday, 9:00 to 18:00 CET. Weekend orders ship on Monday.", "demo-reply-lea-1");
  await patch(lea.conversation_id, { status: "resolved" });
}
