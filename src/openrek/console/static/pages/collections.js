export function render(main) { main.textContent = "Collections: coming"; }
