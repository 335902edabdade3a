// Boots Swagger UI on /docs from a file, not an inline script, so the page keeps a strict CSP.
/* global SwaggerUIBundle */
window.ui = SwaggerUIBundle({
  url: document.getElementById("swagger-ui").dataset.openapiUrl,
  dom_id: "#swagger-ui",
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
});
