/**
 * LockstepClient: the integration API for booking platforms, typed. Requests are typed by the
 * OpenAPI document (openapi.ts via from-openapi.ts: a route that disappears breaks the build here);
 * answers by models.ts. Every method throws LockstepApiError when the API answers outside 2xx.
 */
import createClient, { type Client, type Middleware } from 'openapi-fetch';
import type { paths } from './openapi.js';
import { LockstepApiError } from './errors.js';
import type {
  AccessState,
  AuditEntry,
  Booking,
  BookingSyncStatus,
  CreatedApiKey,
  CreatedCallbackSubscription,
  IntegrationStatus,
  Me,
  MyPin,
  Person,
  PinRegeneration,
  Plan,
  Subscription,
} from './models.js';
import type {
  AccessExplanation,
  AuditQuery,
  CancelSubscriptionInput,
  CreateApiKeyInput,
  CreateBookingInput,
  CreateCallbackInput,
  CreatePersonInput,
  CreatePlanInput,
  CreateSubscriptionInput,
  ExplainAccessQuery,
  ListBookingsQuery,
  ListPeopleQuery,
  ListPlansQuery,
  ListSubscriptionsQuery,
  UpdateBookingInput,
  UpdatePersonInput,
  UpdateSubscriptionInput,
} from './from-openapi.js';

export interface LockstepClientOptions {
  /** Where Lockstep listens, e.g. `https://lockstep.example.com` (no `/v1`). */
  baseUrl: string;
  /** An API key; its role decides what the calls may do (a guest key speaks for one person). */
  apiKey: string;
  /** A fetch of your own (timeouts, proxies, tests); default the global one. */
  fetch?: (request: Request) => Promise<Response>;
}

export interface WaitForSyncOptions {
  /** Settle when the booking's overall state is one of these; default `['applied']`. */
  until?: readonly (AccessState | 'not-mapped')[];
  /** Default 30 s. */
  timeoutMs?: number;
  /** Default 250 ms. */
  intervalMs?: number;
}

/** Throws the API's answer as a LockstepApiError, naming the route template rather than the URL. */
const throwOnError: Middleware = {
  async onResponse({ request, response, schemaPath }) {
    if (response.ok) return undefined;
    const text = await response.clone().text();
    let body: unknown = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = null;
    }
    throw LockstepApiError.fromResponse(`${request.method} ${schemaPath}`, response, body);
  },
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class LockstepClient {
  /** Private: holds the API key in its headers, so it never shows when the client is logged. */
  readonly #api: Client<paths>;

  constructor(options: LockstepClientOptions) {
    if (!options.apiKey) throw new TypeError('LockstepClient: apiKey is required');
    this.#api = createClient<paths>({
      baseUrl: options.baseUrl.replace(/\/+$/, ''),
      headers: { authorization: `Bearer ${options.apiKey}` },
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });
    this.#api.use(throwOnError);
  }

  /** The answer's body: the routes declare no response schemas, so models.ts types it. */
  async #body<T>(call: Promise<{ data?: unknown }>): Promise<T> {
    return (await call).data as T;
  }

  // Bookings --------------------------------------------------------------------------------------

  /** Books a space. Give `organiserId` or `organiser: { name, email }` (found or created by e-mail). */
  createBooking(input: CreateBookingInput): Promise<Booking> {
    return this.#body(this.#api.POST('/v1/bookings', { body: input }));
  }

  getBooking(id: string): Promise<Booking> {
    return this.#body(this.#api.GET('/v1/bookings/{id}', { params: { path: { id } } }));
  }

  /** Bookings by start time; filter by space, person, status, or `from` (ending after an instant). */
  async listBookings(query: ListBookingsQuery = {}): Promise<Booking[]> {
    return (await this.#body<{ results: Booking[] }>(this.#api.GET('/v1/bookings', { params: { query } }))).results;
  }

  /** Changes a booking. Moving only `end` (or only `start`) keeps the other end where it was. */
  updateBooking(id: string, patch: UpdateBookingInput): Promise<Booking> {
    return this.#body(this.#api.PATCH('/v1/bookings/{id}', { params: { path: { id } }, body: patch }));
  }

  /** Cancels a booking; its access is revoked. The record is kept for the audit trail. */
  cancelBooking(id: string): Promise<Booking> {
    return this.#body(this.#api.POST('/v1/bookings/{id}/cancel', { params: { path: { id } } }));
  }

  /** Is the booking on the doors yet: per person and access target, with any provider error. */
  getBookingSync(id: string): Promise<BookingSyncStatus> {
    return this.#body(this.#api.GET('/v1/bookings/{id}/sync', { params: { path: { id } } }));
  }

  /**
   * Polls the booking's sync status until its overall state is one of `until` (default applied).
   * A 'failed' state is retried by the engine, so it is waited through; on timeout the error names the
   * last state and the providers' errors.
   */
  async waitForSync(id: string, options: WaitForSyncOptions = {}): Promise<BookingSyncStatus> {
    const until = options.until ?? ['applied'];
    const deadline = Date.now() + (options.timeoutMs ?? 30_000);
    for (;;) {
      const status = await this.getBookingSync(id);
      if (until.includes(status.state)) return status;
      if (Date.now() >= deadline) {
        const errors = [...new Set(status.entries.map((e) => e.error).filter(Boolean))];
        throw new Error(`booking ${id} is still ${status.state}, not ${until.join(' or ')}${errors.length ? ` (provider: ${errors.join('; ')})` : ''}`);
      }
      await sleep(options.intervalMs ?? 250);
    }
  }

  // People ----------------------------------------------------------------------------------------

  createPerson(input: CreatePersonInput): Promise<Person> {
    return this.#body(this.#api.POST('/v1/people', { body: input }));
  }

  getPerson(id: string): Promise<Person> {
    return this.#body(this.#api.GET('/v1/people/{id}', { params: { path: { id } } }));
  }

  async listPeople(query: ListPeopleQuery = {}): Promise<Person[]> {
    return (await this.#body<{ results: Person[] }>(this.#api.GET('/v1/people', { params: { query } }))).results;
  }

  /** The person with this e-mail (matched case-insensitively), or null. */
  async findPersonByEmail(email: string): Promise<Person | null> {
    return (await this.listPeople({ email, limit: 1 }))[0] ?? null;
  }

  /** The person with `input.email`, created from `input` if there is none. */
  async findOrCreatePerson(input: CreatePersonInput & { email: string }): Promise<Person> {
    const found = await this.findPersonByEmail(input.email);
    if (found) return found;
    try {
      return await this.createPerson(input);
    } catch (err) {
      // Created by someone else since we looked: theirs is the one.
      if (err instanceof LockstepApiError && err.status === 409) {
        const raced = await this.findPersonByEmail(input.email);
        if (raced) return raced;
      }
      throw err;
    }
  }

  updatePerson(id: string, patch: UpdatePersonInput): Promise<Person> {
    return this.#body(this.#api.PATCH('/v1/people/{id}', { params: { path: { id } }, body: patch }));
  }

  // Plans and subscriptions (memberships) ---------------------------------------------------------

  /** A plan opens access targets directly, or spaces through their mappings. */
  createPlan(input: CreatePlanInput): Promise<Plan> {
    return this.#body(this.#api.POST('/v1/plans', { body: input }));
  }

  async listPlans(query: ListPlansQuery = {}): Promise<Plan[]> {
    return (await this.#body<{ results: Plan[] }>(this.#api.GET('/v1/plans', { params: { query } }))).results;
  }

  /** Puts a person (`personId`) or every member of a company (`companyId`) on a plan. */
  createSubscription(input: CreateSubscriptionInput): Promise<Subscription> {
    return this.#body(this.#api.POST('/v1/subscriptions', { body: input }));
  }

  getSubscription(id: string): Promise<Subscription> {
    return this.#body(this.#api.GET('/v1/subscriptions/{id}', { params: { path: { id } } }));
  }

  async listSubscriptions(query: ListSubscriptionsQuery = {}): Promise<Subscription[]> {
    return (await this.#body<{ results: Subscription[] }>(this.#api.GET('/v1/subscriptions', { params: { query } }))).results;
  }

  /** Moves a subscription's end (`null`: open-ended). */
  updateSubscription(id: string, patch: UpdateSubscriptionInput): Promise<Subscription> {
    return this.#body(this.#api.PATCH('/v1/subscriptions/{id}', { params: { path: { id } }, body: patch }));
  }

  /** Ends a subscription now, or `at` a later instant. */
  cancelSubscription(id: string, input: CancelSubscriptionInput = {}): Promise<Subscription> {
    return this.#body(this.#api.POST('/v1/subscriptions/{id}/cancel', { params: { path: { id } }, body: input }));
  }

  // PINs and the guest's own view -----------------------------------------------------------------

  /** Replaces a person's PIN on an integration (host keys and up); the old one stops working everywhere. */
  regeneratePin(personId: string, integrationId: string): Promise<PinRegeneration> {
    return this.#body(this.#api.POST('/v1/people/{id}/pins/regenerate', { params: { path: { id: personId } }, body: { integrationId } }));
  }

  /** The guest's own PINs, one per integration. Guest keys only: a PIN is shown to its owner alone. */
  async myPins(): Promise<MyPin[]> {
    return (await this.#body<{ results: MyPin[] }>(this.#api.GET('/v1/me/pins'))).results;
  }

  /** Who this API key is. */
  me(): Promise<Me> {
    return this.#body(this.#api.GET('/v1/me'));
  }

  // Keys, integrations, audit ---------------------------------------------------------------------

  /** Creates an API key; the key is in this answer only. A guest key needs `personId`. */
  createApiKey(input: CreateApiKeyInput): Promise<CreatedApiKey> {
    return this.#body(this.#api.POST('/v1/api-keys', { body: input }));
  }

  /**
   * Subscribes `url` to booking changes (of one space, or every space). Each POST is signed: check it
   * with verifyWebhookSignature and the `signingSecret` of this answer, which is not shown again.
   */
  createCallback(input: CreateCallbackInput): Promise<CreatedCallbackSubscription> {
    return this.#body(this.#api.POST('/v1/callbacks', { body: input }));
  }

  /** What Lockstep holds on a provider account (users, grants), what is due and what is failing. */
  getIntegrationStatus(integrationId: string): Promise<IntegrationStatus> {
    return this.#body(this.#api.GET('/v1/integrations/{id}/status', { params: { path: { id: integrationId } } }));
  }

  /** Who did what, when and why; newest first. */
  async listAudit(query: AuditQuery = {}): Promise<AuditEntry[]> {
    return (await this.#body<{ results: AuditEntry[] }>(this.#api.GET('/v1/audit', { params: { query } }))).results;
  }

  /**
   * Why `personId` can or cannot get in at a space (or one access target) at an instant: the verdict,
   * and per door the chain booking → mapping → window → credential → provider, naming the broken link.
   * Guest keys may ask about their own person only.
   */
  explainAccess(query: ExplainAccessQuery): Promise<AccessExplanation> {
    return this.#body(this.#api.GET('/v1/access/explain', { params: { query } }));
  }
}
