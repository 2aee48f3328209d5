// Placeholder until the widget lands (issue 10).
export {};
