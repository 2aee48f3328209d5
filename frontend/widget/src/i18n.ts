// The widget's own words, in English and Simplified Chinese; the inbox can
// fix one, otherwise the visitor's browser language picks.

const en = {
  launcher: "Chat with us",
  title: "Chat",
  close: "Close chat",
  message: "Message",
  send: "Send",
  typing: "typing…",
  seen: "Seen",
  sending: "Sending…",
  failed: "Not sent",
  minutes: "We usually reply in a few minutes",
  hours: "We usually reply within a few hours",
  day: "We usually reply within a day",
  away: "We're away right now. Leave a message and we'll get back to you.",
  name: "Name",
  email: "Email",
  leave: "Send message",
  thanks: "Thanks! We'll get back to you.",
  start: "Start chat",
  greeting: "Hi! How can we help?",
  unread: "unread",
  messages: "Messages",
  attach: "Attach a file",
  file: "File",
  notSent: "The file was not sent:",
};

export type Strings = typeof en;

const zh: Strings = {
  launcher: "与我们聊天",
  title: "在线聊天",
  close: "关闭聊天",
  message: "消息",
  send: "发送",
  typing: "正在输入…",
  seen: "已读",
  sending: "发送中…",
  failed: "未发送",
  minutes: "我们通常在几分钟内回复",
  hours: "我们通常在几小时内回复",
  day: "我们通常在一天内回复",
  away: "我们现在不在线。请留言，我们会尽快回复您。",
  name: "姓名",
  email: "邮箱",
  leave: "发送留言",
  thanks: "谢谢！我们会尽快回复您。",
  start: "开始聊天",
  greeting: "您好！有什么可以帮您？",
  unread: "未读",
  messages: "消息",
  attach: "添加附件",
  file: "文件",
  notSent: "文件未发送：",
};

export function strings(fixed: string | undefined, browser: readonly string[]): Strings {
  const lang = fixed ?? browser.find((l) => /^(en|zh)/i.test(l)) ?? "en";
  return /^zh/i.test(lang) ? zh : en;
}
