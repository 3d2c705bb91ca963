/**
 * GENERATED FILE: do not edit. Made by `npm run client:types` (scripts/client-types.ts) with
 * openapi-typescript from the document Lockstep serves at /openapi.json.
 * test/client/openapi-drift.test.ts fails when a route changes and this file was not regenerated.
 */
/* eslint-disable */

export interface paths {
    "/v1/organisations": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        name: string;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/organisations/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        name: string;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        trace?: never;
    };
    "/v1/locations": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get: {
            parameters: {
                query?: {
                    /** @description Platform-admin keys: which organisation to list */
                    organisationId?: string;
                    limit?: number;
                    offset?: number;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        organisationId?: string;
                        name: string;
                        timeZone: string;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/locations/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post?: never;
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        options?: never;
        head?: never;
        patch: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        name?: string;
                        timeZone?: string;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        trace?: never;
    };
    "/v1/spaces": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get: {
            parameters: {
                query?: {
                    /** @description Platform-admin keys: which organisation to list */
                    organisationId?: string;
                    limit?: number;
                    offset?: number;
                    locationId?: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        organisationId?: string;
                        locationId: string;
                        name: string;
                        /** @enum {string} */
                        kind: "room" | "desk" | "office" | "equipment" | "parking" | "court" | "other";
                        /** @description Overrides the integration's buffer for this space; null = use the integration's */
                        bufferBeforeMinutes?: number | null;
                        bufferAfterMinutes?: number | null;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/spaces/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post?: never;
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        options?: never;
        head?: never;
        patch: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        name?: string;
                        /** @enum {string} */
                        kind?: "room" | "desk" | "office" | "equipment" | "parking" | "court" | "other";
                        /** @description Overrides the integration's buffer for this space; null = use the integration's */
                        bufferBeforeMinutes?: number | null;
                        bufferAfterMinutes?: number | null;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        trace?: never;
    };
    "/v1/people": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get: {
            parameters: {
                query?: {
                    /** @description Platform-admin keys: which organisation to list */
                    organisationId?: string;
                    limit?: number;
                    offset?: number;
                    email?: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        organisationId?: string;
                        name: string;
                        /** Format: email */
                        email?: string;
                        phone?: string;
                        /** @default {} */
                        externalIds?: {
                            [key: string]: string;
                        };
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/people/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post?: never;
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        options?: never;
        head?: never;
        patch: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        name?: string;
                        /** Format: email */
                        email?: string;
                        phone?: string;
                        /** @default {} */
                        externalIds?: {
                            [key: string]: string;
                        };
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        trace?: never;
    };
    "/v1/companies": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get: {
            parameters: {
                query?: {
                    /** @description Platform-admin keys: which organisation to list */
                    organisationId?: string;
                    limit?: number;
                    offset?: number;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        organisationId?: string;
                        name: string;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/companies/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post?: never;
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        options?: never;
        head?: never;
        patch: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        name: string;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        trace?: never;
    };
    "/v1/companies/{id}/members/{personId}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        /** Add a member; they get the company subscriptions */
        put: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                    personId: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        post?: never;
        /** Remove a member; access from company subscriptions is revoked */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                    personId: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/bookings": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get: {
            parameters: {
                query?: {
                    /** @description Platform-admin keys: which organisation to list */
                    organisationId?: string;
                    limit?: number;
                    offset?: number;
                    spaceId?: string;
                    personId?: string;
                    status?: "pending" | "confirmed" | "cancelled";
                    /** @description Only bookings ending after this instant */
                    from?: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        organisationId?: string;
                        spaceId: string;
                        organiserId?: string;
                        /** @description Find-or-create the organiser by e-mail instead of giving organiserId */
                        organiser?: {
                            name: string;
                            /** Format: email */
                            email: string;
                        };
                        /** @default [] */
                        inviteeIds?: string[];
                        /** @default [] */
                        invitees?: {
                            name: string;
                            /** Format: email */
                            email: string;
                        }[];
                        /** @description ISO-8601 instant with UTC offset, e.g. 2026-12-01T09:00:00+01:00 */
                        start?: string;
                        end?: string;
                        /** @description Wall-clock time in the location time zone, e.g. 2026-12-01T09:00 */
                        startLocal?: string;
                        endLocal?: string;
                        /** @default 0 */
                        bumpInMinutes?: number;
                        /** @default 0 */
                        bumpOutMinutes?: number;
                        /**
                         * @default confirmed
                         * @enum {string}
                         */
                        status?: "pending" | "confirmed" | "cancelled";
                        title?: string;
                        /** @default api */
                        source?: string;
                        externalId?: string;
                        /**
                         * @description Paid already; with the 'on-payment' trigger access is issued only once a booking is paid
                         * @default false
                         */
                        paid?: boolean;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/bookings/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post?: never;
        /** Same as cancel: the record is kept for the audit trail */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        options?: never;
        head?: never;
        patch: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        spaceId?: string;
                        organiserId?: string;
                        inviteeIds?: string[];
                        invitees?: {
                            name: string;
                            /** Format: email */
                            email: string;
                        }[];
                        /** @description ISO-8601 instant with UTC offset, e.g. 2026-12-01T09:00:00+01:00 */
                        start?: string;
                        end?: string;
                        /** @description Wall-clock time in the location time zone, e.g. 2026-12-01T09:00 */
                        startLocal?: string;
                        endLocal?: string;
                        bumpInMinutes?: number;
                        bumpOutMinutes?: number;
                        /** @enum {string} */
                        status?: "pending" | "confirmed" | "cancelled";
                        title?: string | null;
                        /** @description Mark paid (true) or unpaid (false); the 'on-payment' trigger issues access once paid */
                        paid?: boolean;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        trace?: never;
    };
    "/v1/bookings/{id}/sync": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Access sync status per person and access target */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/bookings/{id}/cancel": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Cancel a booking; its access is revoked */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/plans": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get: {
            parameters: {
                query?: {
                    /** @description Platform-admin keys: which organisation to list */
                    organisationId?: string;
                    limit?: number;
                    offset?: number;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        organisationId?: string;
                        name: string;
                        /** @default [] */
                        spaceIds?: string[];
                        /** @default [] */
                        targets?: {
                            integrationId: string;
                            targetRef: string;
                        }[];
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/plans/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post?: never;
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        options?: never;
        head?: never;
        patch: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        name?: string;
                        /** @default [] */
                        spaceIds?: string[];
                        /** @default [] */
                        targets?: {
                            integrationId: string;
                            targetRef: string;
                        }[];
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        trace?: never;
    };
    "/v1/subscriptions": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get: {
            parameters: {
                query?: {
                    /** @description Platform-admin keys: which organisation to list */
                    organisationId?: string;
                    limit?: number;
                    offset?: number;
                    personId?: string;
                    companyId?: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        organisationId?: string;
                        planId: string;
                        personId?: string;
                        companyId?: string;
                        start?: string;
                        end?: string;
                        startLocal?: string;
                        endLocal?: string;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/subscriptions/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post?: never;
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        options?: never;
        head?: never;
        patch: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        end?: string | null;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        trace?: never;
    };
    "/v1/subscriptions/{id}/cancel": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** @description When access ends; default now */
                        at?: string;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/providers": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Provider kinds this Lockstep can connect to */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/integrations": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get: {
            parameters: {
                query?: {
                    /** @description Platform-admin keys: which organisation to list */
                    organisationId?: string;
                    limit?: number;
                    offset?: number;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        /** Connect a provider account (platform admin) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        organisationId?: string;
                        kind: string;
                        name: string;
                        /** Format: uri */
                        baseUrl: string;
                        credentials: {
                            [key: string]: string;
                        };
                        /** @default false */
                        skipConnectionTest?: boolean;
                        /** @description Access starts this long before each booking (default: the provider's documented default, else 15) */
                        bufferBeforeMinutes?: number;
                        /** @description Access ends this long after each booking (default: the provider's documented default, else 15) */
                        bufferAfterMinutes?: number;
                        /** @description PIN length; null = the provider's default */
                        pinLength?: number | null;
                        /** @description The provider sees a pseudonymous id only, never name/e-mail/phone */
                        privacyMode?: boolean;
                        mobileCredentials?: boolean;
                        /** @description Provision access at most this many days before it starts (default 30) */
                        provisionAheadDays?: number;
                        /** @description Requests per minute all Lockstep workers together make on this provider account; null = the provider's default, 0 = no limit (only 429s slow Lockstep down) */
                        rateLimitPerMinute?: number | null;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/integrations/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        name?: string;
                        /** Format: uri */
                        baseUrl?: string;
                        credentials?: {
                            [key: string]: string;
                        };
                        /** @description Access starts this long before each booking (default: the provider's documented default, else 15) */
                        bufferBeforeMinutes?: number;
                        /** @description Access ends this long after each booking (default: the provider's documented default, else 15) */
                        bufferAfterMinutes?: number;
                        /** @description PIN length; null = the provider's default */
                        pinLength?: number | null;
                        /** @description The provider sees a pseudonymous id only, never name/e-mail/phone */
                        privacyMode?: boolean;
                        mobileCredentials?: boolean;
                        /** @description Provision access at most this many days before it starts (default 30) */
                        provisionAheadDays?: number;
                        /** @description Requests per minute all Lockstep workers together make on this provider account; null = the provider's default, 0 = no limit (only 429s slow Lockstep down) */
                        rateLimitPerMinute?: number | null;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        trace?: never;
    };
    "/v1/integrations/{id}/test": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Check the stored credentials against the provider */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/integrations/{id}/targets": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Access targets (groups, zones, locks) pulled live from the provider */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/integrations/{id}/status": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** What the integration holds, what is pending and what is failing */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/integrations/{id}/disconnect": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Disconnect a provider account */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /**
                         * @description revoke (default): remove everything Lockstep granted; keep: leave it on the provider
                         * @default revoke
                         * @enum {string}
                         */
                        mode?: "revoke" | "keep";
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/mappings": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get: {
            parameters: {
                query?: {
                    /** @description Platform-admin keys: which organisation to list */
                    organisationId?: string;
                    limit?: number;
                    offset?: number;
                    spaceId?: string;
                    integrationId?: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        /** Map a space to an access target; current and future bookings follow */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        spaceId: string;
                        integrationId: string;
                        targetRef: string;
                        /** @default false */
                        skipTargetCheck?: boolean;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/mappings/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /** Unmap; access granted through this mapping is revoked */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/people/{id}/pins/regenerate": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Replace a person's PIN on an integration; the old one stops working everywhere */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        integrationId: string;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/me": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Who this API key is */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/me/pins": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The guest's own PINs, one per integration */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/me/credentials": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Codes, URL keys and mobile keys the provider issued for the guest's bookings */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/me/open": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Open the doors of a booked space now (providers with a remote "pulse" open), during a valid booking window */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        spaceId: string;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/access/explain": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Why can (or can't) this person get in? Walks booking → space → mapping → window → subscription → credential → provider (read live) and names the link that breaks */
        get: {
            parameters: {
                query: {
                    personId: string;
                    spaceId?: string;
                    targetRef?: string;
                    /** @description With targetRef: which integration the target is on */
                    integrationId?: string;
                    /** @description ISO-8601 instant with UTC offset; default now */
                    at?: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            at: string;
                            timeZone: string;
                            person: {
                                id: string;
                                name: string;
                            };
                            space: {
                                id: string;
                                name: string;
                            } | null;
                            verdict: {
                                canEnter: boolean;
                                /**
                                 * @description The link of the chain that breaks; null when the person can enter
                                 * @enum {string|null}
                                 */
                                broken: "integration" | "mapping" | "booking" | "subscription" | "trigger" | "window" | "capacity" | "credential" | "sync" | "provider" | null;
                                text: string;
                            };
                            targets: {
                                integrationId: string;
                                integrationName: string;
                                provider: string;
                                targetRef: string;
                                targetName: string;
                                canEnter: boolean;
                                /** @enum {string|null} */
                                broken: "integration" | "mapping" | "booking" | "subscription" | "trigger" | "window" | "capacity" | "credential" | "sync" | "provider" | null;
                                window: {
                                    from: string;
                                    until: string | null;
                                } | null;
                                /** @description PIN, URL key, mobile key, or card or mobile credential */
                                way: string | null;
                                chain: {
                                    /** @enum {string} */
                                    link: "integration" | "mapping" | "booking" | "subscription" | "trigger" | "window" | "capacity" | "credential" | "sync" | "provider";
                                    ok: boolean;
                                    says: string;
                                }[];
                                pin: {
                                    issuedAt: string;
                                    masked: string;
                                } | null;
                                credentials: {
                                    kind: string;
                                    validFrom: string | null;
                                    validUntil: string | null;
                                    firstUseBefore: string | null;
                                    state: string;
                                }[];
                                recorded: {
                                    user: string | null;
                                    grants: {
                                        state: string;
                                        from: string;
                                        until: string | null;
                                    }[];
                                };
                                live: {
                                    /**
                                     * @description What the provider holds, read at the time of the request
                                     * @enum {string}
                                     */
                                    read: "ok" | "failed" | "skipped";
                                    error?: string;
                                    user?: {
                                        hasPin: boolean | null;
                                    } | null;
                                    grants?: {
                                        from: string;
                                        until: string | null;
                                    }[];
                                };
                                sync: {
                                    dueAt: string;
                                    attempts: number;
                                    lastError: string | null;
                                    running: boolean;
                                } | null;
                                integration: {
                                    status: string;
                                    lastError: string | null;
                                    pausedUntil: string | null;
                                };
                            }[];
                            bookings: {
                                id: string;
                                title: string | null;
                                status: string;
                                role: string;
                                spaceId: string;
                                start: string;
                                end: string;
                                local: {
                                    start: string;
                                    end: string;
                                };
                            }[];
                            subscriptions: {
                                id: string;
                                planName: string;
                                via: string;
                                start: string;
                                end: string | null;
                                cancelledAt: string | null;
                                opensThis: boolean;
                            }[];
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/integrations/{id}/capacity": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Keypad capacity per target: codes held (Lockstep and others), free slots, who waits for one */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            results: {
                                targetRef: string;
                                targetName: string | null;
                                /** @description In force: the setting, else what the provider reports; null = not limited */
                                capacity: number | null;
                                setting: number | null;
                                reported: number | null;
                                /** @description Codes on the lock Lockstep did not create: counted, never touched */
                                foreignCodes: number;
                                lockstepCodes: number;
                                free: number | null;
                                /** @description Waiting for a free slot, nearest window first */
                                waiting: {
                                    personId: string;
                                    windowStart: string;
                                    waitingSince: string;
                                }[];
                            }[];
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/integrations/{id}/targets/{targetRef}/capacity": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        /** Set how many codes a lock holds, where the provider does not say (e.g. a Nuki keypad: 99) */
        put: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                    targetRef: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** @description Codes the lock holds; null: use the provider's figure (or no limit) */
                        capacity: number | null;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            targetRef: string;
                            targetName: string | null;
                            /** @description In force: the setting, else what the provider reports; null = not limited */
                            capacity: number | null;
                            setting: number | null;
                            reported: number | null;
                            /** @description Codes on the lock Lockstep did not create: counted, never touched */
                            foreignCodes: number;
                            lockstepCodes: number;
                            free: number | null;
                            /** @description Waiting for a free slot, nearest window first */
                            waiting: {
                                personId: string;
                                windowStart: string;
                                waitingSince: string;
                            }[];
                        };
                    };
                };
            };
        };
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/api-keys": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Create an API key; the key is shown once */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** @enum {string} */
                        role: "platform-admin" | "team-admin" | "host" | "guest";
                        name: string;
                        organisationId?: string;
                        /** @description Required for guest keys: the person the key speaks for */
                        personId?: string;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/api-keys/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/audit": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Append-only record of grants, changes, revokes, PIN issues and setting changes (newest first) */
        get: {
            parameters: {
                query?: {
                    organisationId?: string;
                    subjectId?: string;
                    action?: string;
                    /** @description Page backwards: entries with id below this */
                    before?: number;
                    limit?: number;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/preview/mapping": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** What setting a space's access targets on one integration would change (nothing is written) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        spaceId: string;
                        integrationId: string;
                        targetRefs: string[];
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            bookings: number;
                            subscriptions: number;
                            people: number;
                            summary: string;
                            added: string[];
                            removed: string[];
                        };
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/preview/buffers": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** What new buffers for an integration or a space would change (nothing is written) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        integrationId?: string;
                        spaceId?: string;
                        /** @description null (spaces only) = use the integration's */
                        bufferBeforeMinutes?: number | null;
                        bufferAfterMinutes?: number | null;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            bookings: number;
                            subscriptions: number;
                            people: number;
                            summary: string;
                        };
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/outbox": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** E-mail notifications, newest first (PINs masked in the text body) */
        get: {
            parameters: {
                query?: {
                    /** @description Platform-admin keys: which organisation to list */
                    organisationId?: string;
                    limit?: number;
                    offset?: number;
                    status?: "queued" | "sent" | "outbox" | "failed";
                    kind?: string;
                    personId?: string;
                    bookingId?: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/outbox/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** One notification with its text and HTML parts (whole for platform admins, PINs masked otherwise) */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/sources": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Booking sources of the organisation */
        get: {
            parameters: {
                query?: {
                    /** @description Platform-admin keys: which organisation to list */
                    organisationId?: string;
                    limit?: number;
                    offset?: number;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        /** Connect a booking source; a signed source answers with its secret once */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        organisationId?: string;
                        /** @enum {string} */
                        kind: "calcom" | "webhook" | "ical";
                        name: string;
                        /** @default {} */
                        settings?: {
                            [key: string]: unknown;
                        };
                        /** @description Signing secret shared with the source; generated when omitted */
                        secret?: string;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/sources/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post?: never;
        /** Disconnect a source; bookings it delivered stay */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        options?: never;
        head?: never;
        patch: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        name?: string;
                        settings?: {
                            [key: string]: unknown;
                        };
                        /** @description Issue a new signing secret (shown once); the old one stops working */
                        rotateSecret?: boolean;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        trace?: never;
    };
    "/v1/sources/{id}/status": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Feed poll status: last poll, HTTP status, error, next poll, what the last fetch changed or skipped */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/sources/{id}/poll": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Poll an iCal feed now (the whole feed is fetched and applied); answers with its status */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/visits/scan": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Scanner: look up, check in or check out a visit by its registration code (host role or higher; rate-limited per key) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** @description The registration code as shown (dash and case optional) or as read from the QR code */
                        code: string;
                        /**
                         * @description lookup changes nothing; check-in and check-out change the visit status when allowed
                         * @default lookup
                         * @enum {string}
                         */
                        action?: "lookup" | "check-in" | "check-out";
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            allowed: boolean;
                            /** @description valid, checked-in, already-checked-in, checked-out, unknown-code, cancelled, not-confirmed, too-early, too-late, already-checked-out, not-checked-in */
                            reason: string;
                            message: string;
                            /** @enum {string} */
                            action: "lookup" | "check-in" | "check-out";
                            /** @description null for an unknown code (or one of another organisation) */
                            visit: {
                                id: string;
                                /** @enum {string} */
                                status: "expected" | "checked-in" | "checked-out" | "cancelled";
                                person: {
                                    id: string;
                                    name: string;
                                    /** @enum {string} */
                                    role: "organiser" | "invitee";
                                };
                                booking: {
                                    id: string;
                                    title: string | null;
                                    status: string;
                                    spaceId: string;
                                    spaceName: string | null;
                                    start: string;
                                    end: string;
                                    startLocal: string;
                                    endLocal: string;
                                    timeZone: string;
                                };
                                /** @description Entry allowed from (booking start − bump-in − buffer) */
                                admitFrom: string;
                                admitUntil: string;
                                checkedInAt: string | null;
                                checkedOutAt: string | null;
                            } | null;
                        };
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/me/visits": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The guest's visits (recent and upcoming bookings) with their registration code and its QR code */
        get: {
            parameters: {
                query?: {
                    /** @description Which QR code renderings to include */
                    qr?: "svg" | "png" | "both" | "none";
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/bookings/{id}/visits": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Front desk: each person's visit status on a booking (codes are never shown here) */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/callbacks": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get: {
            parameters: {
                query?: {
                    /** @description Platform-admin keys: which organisation to list */
                    organisationId?: string;
                    limit?: number;
                    offset?: number;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        /** Subscribe a URL to booking changes; the signing secret is in this answer only */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        organisationId?: string;
                        /** @description Lockstep POSTs each booking change here (HTTPS in production) */
                        url: string;
                        /** @description Only bookings of this space (and bookings that move away from it); omit or null for every space */
                        spaceId?: string | null;
                        /**
                         * @description Add organiser and attendee e-mails to each event (left out for spaces served by a privacy-mode integration)
                         * @default false
                         */
                        includeEmails?: boolean;
                        description?: string;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/callbacks/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post?: never;
        /** Unsubscribe; pending deliveries are dropped */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/callbacks/{id}/deliveries": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Delivery log: status, attempts, last error, response code, newest first */
        get: {
            parameters: {
                query?: {
                    limit?: number;
                    offset?: number;
                    status?: "pending" | "delivered" | "failed" | "superseded";
                    bookingId?: string;
                };
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/callbacks/{id}/deliveries/{deliveryId}/retry": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Send a failed delivery again now */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                    deliveryId: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/spaces/{id}/bookings": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A space's bookings on one local day, with organiser and attendee e-mails and card numbers (host or higher) */
        get: {
            parameters: {
                query: {
                    /** @description The day, in the location's time zone (YYYY-MM-DD) */
                    date: string;
                    /** @description Also list cancelled bookings */
                    includeCancelled?: "true" | "false";
                };
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/cards": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** E-mail → card number mappings (team admin) */
        get: {
            parameters: {
                query?: {
                    /** @description Platform-admin keys: which organisation to list */
                    organisationId?: string;
                    limit?: number;
                    offset?: number;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/cards/{email}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get: {
            parameters: {
                query?: {
                    /** @description Platform-admin keys: which organisation */
                    organisationId?: string;
                };
                header?: never;
                path: {
                    email: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        /** Set the card number for an e-mail (replaces any earlier one) */
        put: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    email: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        organisationId?: string;
                        cardNumber: string;
                        label?: string | null;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        post?: never;
        delete: {
            parameters: {
                query?: {
                    /** @description Platform-admin keys: which organisation */
                    organisationId?: string;
                };
                header?: never;
                path: {
                    email: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/integrations/{id}/trigger": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** When this integration's credentials are issued */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        /** Set when this integration's credentials are issued; everyone affected is re-synced */
        put: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /**
                         * @description When access (and its credential) is issued: on-confirmation (default), on-payment, before-start
                         * @enum {string}
                         */
                        issueOn: "on-confirmation" | "on-payment" | "before-start";
                        /** @description 'before-start' only: hours before the booking's start (fractions allowed) */
                        hoursBefore?: number;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/spaces/{id}/trigger": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** This space's trigger override, PIN delivery and the rule in effect per integration */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        /** Override the integration's trigger for this space and pick how the PIN reaches guests; re-syncs */
        put: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /**
                         * @description Override of the integration's rule for this space; null = inherit
                         * @enum {string|null}
                         */
                        issueOn?: "on-confirmation" | "on-payment" | "before-start" | null;
                        /** @description 'before-start' only: hours before the booking's start (fractions allowed) */
                        hoursBefore?: number | null;
                        /**
                         * @description How the PIN reaches the guest: email (default), sms (LOCKSTEP_SMS_GATEWAY_URL), dashboard (no message carries it)
                         * @enum {string|null}
                         */
                        delivery?: "email" | "sms" | "dashboard" | null;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/me/bookings/{id}/url-key": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A signed link (URL key) that opens this booking's doors now from a phone, valid until the booking's access ends */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/k/{token}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** URL key page: the booking and an "Open door" button (HTML, no API key; the token is the credential) */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    token: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        /** Open the booking's doors now with a URL key: only inside the access window, not after cancellation; 5 per minute per link */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    token: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/sources/{id}/calcom": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Cal.com webhook delivery (no API key: authenticated by X-Cal-Signature-256)
         * @description Set this URL as the Subscriber URL of a Cal.com webhook and the source secret as its Secret. 200 for applied, duplicate, stale and ignored deliveries; 401 bad or missing signature; 400 malformed body or unmapped event type (the message says which setting to add); 404 unknown source.
         */
        post: {
            parameters: {
                query?: never;
                header?: {
                    /** @description hex HMAC-SHA256 of the raw body with the webhook secret */
                    "x-cal-signature-256"?: string;
                };
                path: {
                    id: string;
                };
                cookie?: never;
            };
            /** @description Cal.com's default webhook payload (no custom payload template) */
            requestBody: {
                content: {
                    "application/json": {
                        /** @description BOOKING_CREATED, BOOKING_RESCHEDULED, BOOKING_CANCELLED, BOOKING_REQUESTED, BOOKING_REJECTED, BOOKING_PAYMENT_INITIATED, BOOKING_PAID, PING, … */
                        triggerEvent: string;
                        /** @description When Cal.com fired the trigger; the delivery version */
                        createdAt: string;
                        payload: {
                            uid: string;
                            iCalUID?: string;
                            eventTypeId?: number;
                            /** @description Event type slug */
                            type?: string;
                            startTime: string;
                            endTime: string;
                            title?: string;
                            location?: string;
                            organizer?: {
                                name: string;
                                email: string;
                            } & {
                                [key: string]: unknown;
                            };
                            /** @description The booker first, then guests */
                            attendees?: ({
                                name: string;
                                email: string;
                            } & {
                                [key: string]: unknown;
                            })[];
                            rescheduleUid?: string;
                        } & {
                            [key: string]: unknown;
                        };
                    } & {
                        [key: string]: unknown;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /**
                             * @description created/updated/cancelled/unchanged: applied; duplicate: this version was already applied; stale: a newer version was; ignored/ping: nothing to do. All are final: do not retry.
                             * @enum {string}
                             */
                            outcome: "created" | "updated" | "cancelled" | "unchanged" | "duplicate" | "stale" | "ignored" | "ping";
                            /** @description The Lockstep booking, when there is one */
                            bookingId: string | null;
                            note?: string;
                            /** @description Cal.com reschedules: what happened to the booking uid it replaced */
                            replaced?: {
                                externalId: string;
                                outcome: string;
                                bookingId: string | null;
                            };
                        };
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/sources/{id}/bookings": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Generic signed booking webhook (no API key: authenticated by Lockstep-Signature)
         * @description Sign the raw body: Lockstep-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>, within 5 minutes of our clock. Idempotent by (source, id, version). 200 for applied, duplicate and stale deliveries (stop retrying); 401 bad, missing or stale signature; 400 malformed body, unknown event or unmapped resource; 404 unknown source.
         */
        post: {
            parameters: {
                query?: never;
                header?: {
                    /** @description t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")> */
                    "lockstep-signature"?: string;
                };
                path: {
                    id: string;
                };
                cookie?: never;
            };
            /** @description A booking change, signed with Lockstep-Signature */
            requestBody: {
                content: {
                    "application/json": {
                        /** @enum {string} */
                        event: "booking.upserted";
                        /** @description Your booking id; stable across every change of the booking */
                        id: string;
                        /** @description Grows with every change of this booking: a revision counter, or the change time in Unix SECONDS (at most 2147483647). Equal = duplicate, lower = stale */
                        version: number;
                        /** @description Your resource id, mapped to a space by settings.spaceByResource */
                        resource?: string;
                        /** @description The Lockstep space id (instead of resource) */
                        spaceId?: string;
                        title?: string;
                        /**
                         * @description pending: known but no access yet
                         * @default confirmed
                         * @enum {string}
                         */
                        status?: "confirmed" | "pending";
                        /** @description ISO 8601 instant with UTC offset, e.g. 2026-12-01T09:00:00+01:00 */
                        start: string;
                        /** @description ISO 8601 instant with UTC offset, e.g. 2026-12-01T09:00:00+01:00 */
                        end: string;
                        /** @description A person: name and e-mail (people are matched by e-mail) */
                        organiser: {
                            name: string;
                            /** Format: email */
                            email: string;
                        };
                        /** @description Invitees; each gets access for the booking */
                        attendees?: {
                            name: string;
                            /** Format: email */
                            email: string;
                        }[];
                    } | {
                        /** @enum {string} */
                        event: "booking.cancelled";
                        /** @description Your booking id; stable across every change of the booking */
                        id: string;
                        /** @description Grows with every change of this booking: a revision counter, or the change time in Unix SECONDS (at most 2147483647). Equal = duplicate, lower = stale */
                        version: number;
                        /** @description Your resource id, mapped to a space by settings.spaceByResource */
                        resource?: string;
                        /** @description The Lockstep space id (instead of resource) */
                        spaceId?: string;
                        title?: string;
                        /** @description ISO 8601 instant with UTC offset, e.g. 2026-12-01T09:00:00+01:00 */
                        start?: string;
                        /** @description ISO 8601 instant with UTC offset, e.g. 2026-12-01T09:00:00+01:00 */
                        end?: string;
                        /** @description A person: name and e-mail (people are matched by e-mail) */
                        organiser?: {
                            name: string;
                            /** Format: email */
                            email: string;
                        };
                        attendees?: {
                            name: string;
                            /** Format: email */
                            email: string;
                        }[];
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /**
                             * @description created/updated/cancelled/unchanged: applied; duplicate: this version was already applied; stale: a newer version was; ignored/ping: nothing to do. All are final: do not retry.
                             * @enum {string}
                             */
                            outcome: "created" | "updated" | "cancelled" | "unchanged" | "duplicate" | "stale" | "ignored" | "ping";
                            /** @description The Lockstep booking, when there is one */
                            bookingId: string | null;
                            note?: string;
                            /** @description Cal.com reschedules: what happened to the booking uid it replaced */
                            replaced?: {
                                externalId: string;
                                outcome: string;
                                bookingId: string | null;
                            };
                        };
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: never;
    responses: never;
    parameters: never;
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export type operations = Record<string, never>;
