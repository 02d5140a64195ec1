import type {
  EventHandlers,
  UnknownEventTypes,
  WebhookHandler,
  WebhookHandlerOptions,
} from "@kallima/webhooks";
import { isWebhookHandler, resolveWebhookHandler } from "@kallima/webhooks/adapter";
import {
  type DynamicModule,
  type InjectionToken,
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
import { withNestLogger } from "./logging.js";
import type { NestWebhookContext } from "./request.js";

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
 * Options of {@link KallimaWebhooksModule.forRoot}: the core's handler options (`secret`, `on`,
 * `toleranceSeconds`, `idempotency`, `maxBodyBytes`, `logger`, `onError`, …), typed with the
 * {@link NestWebhookContext} handlers and a `secret` function get, plus `path` and `isGlobal`.
 * `logger` defaults to Nest's `Logger`; `false` silences.
 */
export interface KallimaWebhooksModuleOptions
  extends WebhookHandlerOptions<NestWebhookContext>,
    KallimaWebhooksModuleRouteOptions {}

/**
 * {@link KallimaWebhooksModuleOptions} with `on` checked key by key, so that a misspelled event
 * type is reported in plain words (see `UnknownEventTypes`). `TOn` is inferred from `on`.
 */
export type KallimaWebhooksModuleOptionsFor<TOn = EventHandlers<NestWebhookContext>> = Omit<
  KallimaWebhooksModuleOptions,
  "on"
> & {
  /** Handlers by event type. */
  on?: TOn & EventHandlers<NestWebhookContext> & UnknownEventTypes<TOn>;
};

/**
 * What a `forRootAsync` factory returns: handler options, or a ready handler (typed with the
 * Nest context, or made without a context type: `createWebhookHandler({ secret })`).
 */
export type KallimaWebhooksFactoryResult =
  | WebhookHandlerOptions<NestWebhookContext>
  | WebhookHandler<NestWebhookContext>
  | WebhookHandler;

/**
 * Options of {@link KallimaWebhooksModule.forRootAsync}: a factory for the handler options (or
 * for a ready `WebhookHandler`), with the modules and providers it needs.
 */
export interface KallimaWebhooksModuleAsyncOptions<
  TResult extends KallimaWebhooksFactoryResult = KallimaWebhooksFactoryResult,
> extends KallimaWebhooksModuleRouteOptions {
  /** Modules that export what `inject` names, such as `ConfigModule`. */
  imports?: ModuleMetadata["imports"];
  /** Providers passed to `useFactory`, in order. */
  inject?: Array<InjectionToken | OptionalFactoryDependency>;
  /** Returns the handler options, or a handler made with `createWebhookHandler()`. */
  useFactory: (
    // Each factory names its own parameter types, as in Nest's own `FactoryProvider`.
    ...args: never[]
  ) => TResult | PromiseLike<TResult>;
}

/**
 * A factory result whose `on` map is checked key by key. A function's returned object gets no
 * excess-property check, so without this a typo beside a valid key would compile silently.
 */
export type CheckedFactoryResult<TResult> = TResult extends { on?: infer TOn }
  ? TResult & { on?: UnknownEventTypes<TOn> }
  : TResult;

function createHandler(input: KallimaWebhooksFactoryResult): WebhookHandler<NestWebhookContext> {
  // A handler without a context type takes any context, this one included.
  if (isWebhookHandler(input)) return input as WebhookHandler<NestWebhookContext>;
  return resolveWebhookHandler(withNestLogger(input));
}

/**
 * Receives Kallima webhooks in a Nest app: a verified, deduplicated route at `path` that runs the
 * `@OnKallimaEvent()` methods of your providers, plus `KallimaWebhookGuard` for your own routes.
 * The app must be created with `rawBody: true`. `kallimaWebhooks(options)` is `forRoot(options)`.
 *
 * @example
 * ```ts
 * @Module({
 *   imports: [KallimaWebhooksModule.forRoot({ secret: process.env.KALLIMA_WEBHOOK_SECRET! })],
 *   providers: [JobsService], // has @OnKallimaEvent("job.completed") methods
 * })
 * export class AppModule {}
 *
 * async function bootstrap() {
 *   const app = await NestFactory.create(AppModule, { rawBody: true });
 *   await app.listen(3000);
 * }
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
  static forRoot<TOn = EventHandlers<NestWebhookContext>>(
    options: KallimaWebhooksModuleOptionsFor<TOn>,
  ): DynamicModule {
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
  static forRootAsync<TResult extends KallimaWebhooksFactoryResult>(
    options: KallimaWebhooksModuleAsyncOptions<TResult> & {
      useFactory: (
        ...args: never[]
      ) => CheckedFactoryResult<TResult> | PromiseLike<CheckedFactoryResult<TResult>>;
    },
  ): DynamicModule {
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

/**
 * The terminal helper, the Nest way: `KallimaWebhooksModule.forRoot(options)`, a module to import
 * that mounts the webhook route and runs the `on` handlers and `@OnKallimaEvent()` methods.
 *
 * @example
 * ```ts
 * @Module({ imports: [kallimaWebhooks({ secret: process.env.KALLIMA_WEBHOOK_SECRET!, on: { "job.completed": onCompleted } })] })
 * export class AppModule {}
 * ```
 */
export function kallimaWebhooks<TOn = EventHandlers<NestWebhookContext>>(
  options: KallimaWebhooksModuleOptionsFor<TOn>,
): DynamicModule {
  return KallimaWebhooksModule.forRoot(options);
}
