// Snooze choices in the agent's local time: in an hour, tomorrow at 9:00,
// next Monday at 9:00.
export function snoozeTimes(now: number): { hour: number; tomorrow: number; nextWeek: number } {
  const tomorrow = new Date(now);
  tomorrow.setDate(tomorrow.getDate() + 1);
  tomorrow.setHours(9, 0, 0, 0);
  const monday = new Date(now);
  const days = ((8 - monday.getDay()) % 7) || 7;
  monday.setDate(monday.getDate() + days);
  monday.setHours(9, 0, 0, 0);
  return { hour: now + 3_600_000, tomorrow: tomorrow.getTime(), nextWeek: monday.getTime() };
}
