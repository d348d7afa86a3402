import { FakeTwitch } from 'nestjs-twitch-auth/testing';

// Starts FakeTwitch from the package's testing entry and prints where it listens, for the consumer test.
async function main() {
  const fake = await FakeTwitch.start();
  const { clientId, clientSecret, idBaseUrl, helixBaseUrl, url } = fake;
  console.log(JSON.stringify({ url, idBaseUrl, helixBaseUrl, clientId, clientSecret, browserUser: fake.browserUser }));
  process.once('SIGTERM', () => void fake.close().then(() => process.exit(0)));
}
void main();
