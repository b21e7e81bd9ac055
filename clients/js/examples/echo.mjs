// An echo bot on the SDK: it answers every text message sent to it with "echo: <text>".
//
//   node --experimental-websocket examples/echo.mjs              # as IM_USER / IM_PASSWORD
//   node --experimental-websocket examples/echo.mjs --demo       # two new users talk to each other once
//
// IM_SERVER_URL is the server (default http://127.0.0.1:8000). Node.js 22 and later have
// WebSocket without the flag.
import { ImClient } from '../src/index.js';

const baseUrl = process.env.IM_SERVER_URL ?? 'http://127.0.0.1:8000';

/** Start the bot as a logged-in client; resolves once it listens. */
async function startBot(bot) {
  bot.on('state', ({ state, attempt, delayMs, reason }) => {
    console.log(`bot: ${state}${attempt ? ` (attempt ${attempt} in ${delayMs} ms)` : ''}${reason ? ` (${reason})` : ''}`);
  });
  bot.on('message', (msg) => {
    if (msg.from === bot.userId || msg.type !== 1) return; // its own echoes, non-text messages
    bot.sendMessage({ chatId: msg.chatId, content: { text: `echo: ${msg.content.text}` } })
      .catch((error) => console.error(`bot: could not answer: ${error.code} ${error.message}`));
  });
  await bot.connect();
}

async function demo() {
  const suffix = Date.now().toString(36);
  const bot = new ImClient({ baseUrl });
  await bot.register({ username: `echo_bot_${suffix}`, password: 'echo-secret' });
  await startBot(bot);

  const user = new ImClient({ baseUrl });
  await user.register({ username: `echo_user_${suffix}`, password: 'echo-secret' });
  await user.connect();
  const answered = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no echo within 10 s')), 10000);
    user.on('message', (msg) => {
      if (msg.from !== bot.userId) return;
      clearTimeout(timer);
      resolve(msg);
    });
  });
  await user.sendMessage({ to: bot.userId, content: { text: 'hello' } });
  const echo = await answered;
  console.log(echo.content.text);
  // The echo can reach the user before its acknowledgement reaches the bot: let it land.
  for (let i = 0; i < 100 && bot.pending.length; i += 1) await new Promise((r) => setTimeout(r, 50));
  user.close();
  bot.close();
}

async function main() {
  if (process.argv.includes('--demo')) return demo();
  const { IM_USER: username, IM_PASSWORD: password } = process.env;
  if (!username || !password) {
    console.error('set IM_USER and IM_PASSWORD (or run with --demo)');
    process.exitCode = 2;
    return undefined;
  }
  const bot = new ImClient({ baseUrl });
  await bot.login(username, password, { device: 'echo-bot' });
  await startBot(bot);
  console.log(`bot: user ${bot.userId} listening on ${baseUrl}; Ctrl-C to stop`);
  process.on('SIGINT', () => bot.close());
  return undefined;
}

main().catch((error) => {
  console.error(`${error.name}: ${error.code ?? ''} ${error.message}`);
  process.exitCode = 1;
});
