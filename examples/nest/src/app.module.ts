import { KallimaWebhooksModule } from "@kallima/webhooks-nest";
import { Controller, Get, Header, Module } from "@nestjs/common";
import { ConfigModule, ConfigService } from "@nestjs/config";
import { kallimaConfig } from "./config";
import { EventLog } from "./event-log.service";
import { EventsController } from "./events.controller";
import { GuardedController } from "./guarded.controller";
import { JobsService, WebhookTestService } from "./jobs.service";

@Controller()
class HomeController {
  @Get()
  @Header("content-type", "text/plain; charset=utf-8")
  home(): string {
    return "Kallima webhooks example (NestJS). POST deliveries to /kallima-events.\n";
  }
}

@Module({
  imports: [
    ConfigModule.forRoot({ ignoreEnvFile: true, load: [kallimaConfig] }),
    // Mounts /kallima-events: POST runs the @OnKallimaEvent() methods below, other methods get
    // 405, except GET, which EventsController answers (this module's routes are registered first).
    KallimaWebhooksModule.forRootAsync({
      imports: [ConfigModule],
      inject: [ConfigService],
      useFactory: (config: ConfigService) => ({
        secret: config.getOrThrow<string[]>("KALLIMA_WEBHOOK_SECRET"),
      }),
    }),
  ],
  controllers: [HomeController, EventsController, GuardedController],
  providers: [EventLog, JobsService, WebhookTestService],
})
export class AppModule {}
