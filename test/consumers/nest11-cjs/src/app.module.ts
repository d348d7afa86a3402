import { Module } from '@nestjs/common';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { TwitchAuthModule } from 'nestjs-twitch-auth';
import { AppController } from './app.controller';

@Module({
  imports: [
    EventEmitterModule.forRoot(),
    TwitchAuthModule.forRoot({
      clientId: process.env.TWITCH_CLIENT_ID!,
      clientSecret: process.env.TWITCH_CLIENT_SECRET,
      redirectUri: process.env.TWITCH_REDIRECT_URI,
      defaultScopes: ['chat:read', 'user:read:email'],
      storage: 'memory',
      twitch: { idBaseUrl: process.env.TWITCH_ID_BASE_URL, helixBaseUrl: process.env.TWITCH_HELIX_BASE_URL },
    }),
  ],
  controllers: [AppController],
})
export class AppModule {}
