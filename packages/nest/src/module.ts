import {
  isWebhookHandler,
  type KallimaWebhookError,
  resolveWebhookHandler,
  type WebhookErrorContext,
  type WebhookHandler,
  type WebhookHandlerOptions,
} from "@kallima/webhooks";
import {
  type DynamicModule,
  type InjectionToken,
  Logger,
  Module,
  type ModuleMetadata,
  type OptionalFactoryDependency,
  type Provider,
} from "@nestjs/common";
import { DiscoveryModule } from "@nestjs/core";
import {
  DEFAULT_WEBHOOK_PATH,
  KALLIMA_WEBHOOK_HANDLER,
  KALLIMA_WEBHOOKS_OPTIONS,
} from "./constants.js";
import { createKallimaWebhookController } from "./controller.js";
import { KallimaEventsExplorer } from "./explorer.js";
import { KallimaWebhookGuard } from "./guard.js";

/** Where the module mounts its route, and whether it is global. */
export interface KallimaWebhooksModuleRouteOptions {
  /**
   * Route of the module's webhook controller (under the app's global prefix, if any).
   * Default `"kallima-events"`. `false` mounts none, for apps that only use `KallimaWebhookGuard`.
   */
  path?: string | false;
  /** Registers the module globally, so that `KallimaWebhookGuard` works in every module. Default `false`. */
  isGlobal?: boolean;
}

/**
 * Options of {@link KallimaWebhooksModule.forRoot}: the core's handler options (`secret`,
 * `toleranceSeconds`, `idempotency`, `maxBodyBytes`, `onError`, …) plus `path` and `isGlobal`.
 * Without `onError`, failed deliveries are logged with Nest's `Logger`.
 */
export interface KallimaWebhooksModuleOptions
  extends WebhookHandlerOptions,
    KallimaWebhooksModuleRouteOptions {}

/**
 * Options of {@link KallimaWebhooksModule.forRootAsync}: a factory for the handler options (or
 * for a ready `WebhookHandler`), with the modules and providers it needs.
 */
export interface KallimaWebhooksModuleAsyncOptions extends KallimaWebhooksModuleRouteOptions {
  /** Modules that export what `inject` names, such as `ConfigModule`. */
  imports?: ModuleMetadata["imports"];
  /** Providers passed to `useFactory`, in order. */
  inject?: Array<InjectionToken | OptionalFactoryDependency>;
  /** Returns the handler options, or a handler made with `createWebhookHandler()`. */
  useFactory: (
    // Each factory names its own parameter types, as in Nest's own `FactoryProvider`.
    ...args: never[]
  ) => WebhookHandlerOptions | WebhookHandler | PromiseLike<WebhookHandlerOptions | WebhookHandler>;
}

const logger = new Logger("KallimaWebhooksModule");

/** Logs failed deliveries unless the app passed its own `onError`. */
function logFailures(error: KallimaWebhookError, context: WebhookErrorContext): void {
  const about = context.event ? ` (event ${context.event.id}, ${context.event.type})` : "";
  const message = `${error.code}: ${error.message}${about}`;
  if (context.status >= 500) {
    const cause = error.cause instanceof Error ? error.cause.stack : undefined;
    logger.error(message, cause);
  } else {
    logger.warn(message);
  }
}

function createHandler(input: WebhookHandlerOptions | WebhookHandler): WebhookHandler {
  if (isWebhookHandler(input)) return input;
  return resolveWebhookHandler({ onError: logFailures, ...input });
}

/**
 * Receives Kallima webhooks in a Nest app: a verified, deduplicated route at `path` that runs the
 * `@OnKallimaEvent()` methods of your providers, plus `KallimaWebhookGuard` for your own routes.
 * The app must be created with `rawBody: true`.
 *
 * @example
 * ```ts
 * @Module({
 *   imports: [KallimaWebhooksModule.forRoot({ secret: process.env.KALLIMA_WEBHOOK_SECRET! })],
 *   providers: [JobsService], // has @OnKallimaEvent("job.completed") methods
 * })
 * export class AppModule {}
 *
 * const app = await NestFactory.create(AppModule, { rawBody: true });
 * ```
 */
@Module({})
// biome-ignore lint/complexity/noStaticOnlyClass: a Nest module is a class, configured by static forRoot()/forRootAsync().
export class KallimaWebhooksModule {
  /**
   * Configures the module with static options.
   *
   * @example
   * ```ts
   * KallimaWebhooksModule.forRoot({ secret: process.env.KALLIMA_WEBHOOK_SECRET!, isGlobal: true })
   * ```
   */
  static forRoot(options: KallimaWebhooksModuleOptions): DynamicModule {
    const { path, isGlobal, ...handlerOptions } = options;
    return build({ path, isGlobal }, [], {
      provide: KALLIMA_WEBHOOKS_OPTIONS,
      useValue: handlerOptions,
    });
  }

  /**
   * Configures the module from other providers, such as the secret from `ConfigService`.
   *
   * @example
   * ```ts
   * KallimaWebhooksModule.forRootAsync({
   *   imports: [ConfigModule],
   *   inject: [ConfigService],
   *   useFactory: (config: ConfigService) => ({ secret: config.getOrThrow("KALLIMA_WEBHOOK_SECRET") }),
   * })
   * ```
   */
  static forRootAsync(options: KallimaWebhooksModuleAsyncOptions): DynamicModule {
    const { path, isGlobal, imports = [], inject = [], useFactory } = options;
    return build({ path, isGlobal }, imports, {
      provide: KALLIMA_WEBHOOKS_OPTIONS,
      useFactory: useFactory as (...args: unknown[]) => unknown,
      inject,
    });
  }
}

function build(
  route: KallimaWebhooksModuleRouteOptions,
  imports: NonNullable<ModuleMetadata["imports"]>,
  optionsProvider: Provider,
): DynamicModule {
  const path = route.path ?? DEFAULT_WEBHOOK_PATH;
  return {
    module: KallimaWebhooksModule,
    global: route.isGlobal ?? false,
    imports: [DiscoveryModule, ...imports],
    controllers: path === false ? [] : [createKallimaWebhookController(path)],
    providers: [
      optionsProvider,
      {
        provide: KALLIMA_WEBHOOK_HANDLER,
        useFactory: createHandler,
        inject: [KALLIMA_WEBHOOKS_OPTIONS],
      },
      KallimaEventsExplorer,
      KallimaWebhookGuard,
    ],
    exports: [KALLIMA_WEBHOOK_HANDLER, KallimaWebhookGuard],
  };
}
