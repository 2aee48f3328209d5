// Placeholder until the dashboard lands (issue 9).
document.getElementById("app")!.textContent = "Switchboard";
