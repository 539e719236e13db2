/* Starts Swagger UI on /api/docs. A static file because the CSP allows no inline script; the OpenAPI address
   comes from a data attribute. validatorUrl: null — the default badge would ask validator.swagger.io, another
   host, about every page view. */
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  if (!root || typeof window.SwaggerUIBundle !== "function") {
    return;
  }
  window.SwaggerUIBundle({
    url: root.getAttribute("data-openapi-url"),
    domNode: root,
    deepLinking: true,
    layout: "BaseLayout",
    presets: [window.SwaggerUIBundle.presets.apis],
    validatorUrl: null,
    tryItOutEnabled: false
  });
})();
