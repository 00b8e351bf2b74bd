// Loads a collection with Postman's own SDK (postman-collection) and prints what it understood,
// so the test can compare it with the file: an item the SDK cannot read goes missing here.
const fs = require("fs");
const { Collection, Item } = require("postman-collection");
const json = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
if (!Collection.isCollection(new Collection(json))) throw new Error("not a collection");
const collection = new Collection(json);
const requests = [];
collection.forEachItem((item) => {
  if (!Item.isItem(item)) throw new Error("not an item");
  requests.push({
    name: item.name,
    method: item.request.method,
    url: item.request.url.toString(),
    auth: item.getAuth() ? item.getAuth().type : null,
    body: item.request.body ? item.request.body.mode : null,
    tests: item.events.filter((e) => e.listen === "test").length,
    responses: item.responses.count(),
  });
});
console.log(JSON.stringify({ name: collection.name, auth: collection.auth ? collection.auth.type : null, requests }));
